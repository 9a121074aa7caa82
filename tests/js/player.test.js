// Which URL the live player plays where Media Source Extensions are missing.
import assert from "node:assert/strict";
import { test } from "node:test";

import { httpSourceUrl } from "../../static/radio/js/player.js";

const urls = { streamUrl: "/stations/x/stream.mp3", hlsUrl: "/stations/x/hls/live.m3u8" };

/** An <audio> element that answers canPlayType for HLS with `answer`. */
function audioSaying(answer) {
  return {
    canPlayType: (type) => (type === "application/vnd.apple.mpegurl" ? answer : ""),
  };
}

test("a browser that plays HLS itself gets the HLS playlist", () => {
  assert.equal(httpSourceUrl(audioSaying("maybe"), urls), urls.hlsUrl);
  assert.equal(httpSourceUrl(audioSaying("probably"), urls), urls.hlsUrl);
});

test("a browser that does not gets stream.mp3", () => {
  assert.equal(httpSourceUrl(audioSaying(""), urls), urls.streamUrl);
});

test("without an HLS URL it is stream.mp3 whatever the browser plays", () => {
  assert.equal(httpSourceUrl(audioSaying("maybe"), { streamUrl: urls.streamUrl }), urls.streamUrl);
});
