"""The names of the events a webhook may be told of."""

from __future__ import annotations

SONG_CHANGED = "song_changed"
LIVE_CONNECT = "live_connect"
LIVE_DISCONNECT = "live_disconnect"
STATION_ONLINE = "station_online"
STATION_OFFLINE = "station_offline"
LISTENER_GAINED = "listener_gained"
LISTENER_LOST = "listener_lost"
EPISODE_PUBLISHED = "episode_published"

EVENTS = (
    SONG_CHANGED,
    LIVE_CONNECT,
    LIVE_DISCONNECT,
    STATION_ONLINE,
    STATION_OFFLINE,
    LISTENER_GAINED,
    LISTENER_LOST,
    EPISODE_PUBLISHED,
)
# What "send a test" sends: any webhook takes it, whatever its events.
TEST = "test"

# Said in Discord posts and Mastodon statuses.
DESCRIPTIONS = {
    SONG_CHANGED: "Now playing",
    LIVE_CONNECT: "Live now",
    LIVE_DISCONNECT: "Live show ended",
    STATION_ONLINE: "On air",
    STATION_OFFLINE: "Off air",
    LISTENER_GAINED: "More listeners",
    LISTENER_LOST: "Fewer listeners",
    EPISODE_PUBLISHED: "New episode",
    TEST: "Test from radio",
}
