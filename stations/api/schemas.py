"""The API's answers as AzuraCast shapes them (``Entity/Api/NowPlaying``),
for the fields radio has; the others are present with empty values."""

from __future__ import annotations

from ninja import Schema


class Listeners(Schema):
    total: int
    unique: int
    current: int


class Mount(Schema):
    id: int
    name: str
    url: str
    bitrate: int
    format: str
    listeners: Listeners
    path: str
    is_default: bool


class Station(Schema):
    id: int
    name: str
    shortcode: str
    description: str
    frontend: str
    backend: str
    timezone: str
    listen_url: str
    url: str
    public_player_url: str
    playlist_pls_url: str
    playlist_m3u_url: str
    is_public: bool
    requests_enabled: bool
    mounts: list[Mount]
    remotes: list[Mount]
    hls_enabled: bool
    hls_is_default: bool
    hls_url: str | None
    hls_listeners: int


class Live(Schema):
    is_live: bool
    streamer_name: str
    broadcast_start: int | None
    art: str | None


class Song(Schema):
    id: str
    text: str
    artist: str
    title: str
    album: str
    genre: str
    isrc: str
    lyrics: str
    art: str
    custom_fields: dict[str, str]


class SongHistory(Schema):
    sh_id: int
    played_at: int
    duration: int
    playlist: str
    streamer: str
    is_request: bool
    song: Song


class CurrentSong(SongHistory):
    elapsed: int
    remaining: int


class PlayingNext(Schema):
    """AzuraCast's ``StationQueue``: what plays next."""

    cued_at: int
    played_at: int
    duration: int
    playlist: str
    is_request: bool
    song: Song


class NowPlaying(Schema):
    station: Station
    listeners: Listeners
    live: Live
    now_playing: CurrentSong
    playing_next: PlayingNext | None
    song_history: list[SongHistory]
    is_online: bool
    cache: str | None


class ScheduleEntry(Schema):
    id: int
    type: str
    name: str
    title: str
    description: str
    start_timestamp: int
    start: str
    end_timestamp: int
    end: str
    is_now: bool


class Error(Schema):
    detail: str
