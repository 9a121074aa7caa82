"""Call-ins in tests and benches: what a page hears of a voice link.

``heard(page, stream, tones)`` records a page's MediaStream (what the
caller gets of the DJ, what the console gets of a caller) through Web
Audio, and returns each tone's level in it.
"""

from __future__ import annotations

from playwright.sync_api import Page

from tests.support.audio import tone_levels

# Functions that return, in a page, what each side sends and receives.
CALLER_MIC = "() => radio.callIn.mic"
CALLER_HEARS = "() => radio.callIn.link.remoteStream"
CONSOLE_MIC = "() => radio.studio.desk.mixer.mic.stream"
CONSOLE_HEARS = "() => [...radio.studio.calls.lines.values()][0].link.remoteStream"
# Records ``seconds`` of a stream: a ScriptProcessor is the one way to take
# samples that a page's policy (no blob:, no eval) leaves to a test.
RECORD_STREAM = """
async ([stream, seconds]) => {
  const context = new AudioContext();
  const source = context.createMediaStreamSource(stream);
  const processor = context.createScriptProcessor(4096, 1, 1);
  const chunks = [];
  processor.onaudioprocess = (event) => {
    chunks.push(Array.from(event.inputBuffer.getChannelData(0)));
  };
  source.connect(processor);
  processor.connect(context.destination);
  await new Promise((done) => setTimeout(done, seconds * 1000));
  source.disconnect();
  processor.disconnect();
  await context.close();
  return { rate: context.sampleRate, samples: chunks.flat() };
}
"""


def heard(
    page: Page, stream: str, tones: list[int], *, seconds: float = 1.5
) -> dict[int, float]:
    """The median level (1.0 = full scale) of each of ``tones`` in the
    MediaStream that the function ``stream`` returns in the page."""
    handle = page.evaluate_handle(stream)
    recorded = page.evaluate(RECORD_STREAM, [handle, seconds])
    windows = tone_levels(
        recorded["samples"],
        tones,
        window_ms=100,
        sample_rate=int(recorded["rate"]),
        full_scale=1.0,
    )
    assert windows, "nothing was recorded"
    return {
        tone: sorted(window[tone] for window in windows)[len(windows) // 2]
        for tone in tones
    }
