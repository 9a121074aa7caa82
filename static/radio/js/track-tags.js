/**
 * The title and artist of a DJ's local file, from its tags: ID3v2 (2.2,
 * 2.3, 2.4) or ID3v1 in MP3s, Vorbis comments in FLAC, Ogg Vorbis and
 * Opus; else from the file's name, "Artist - Title.mp3"
 * (tests/js/track-tags.test.js).
 *
 *   await trackOfFile(file)                 // { title, artist }
 *   tagsOf(firstBytes, lastBytes)           // { title, artist } or null
 *
 * Only the few bytes that hold the tags are read, never the whole file.
 */

import { trackFromFileName } from "./studio-helpers.js";

// ID3v2 tags with cover art run to a few hundred KiB; beyond this the title
// is not looked for.
const MAX_TAG_BYTES = 4 * 1024 * 1024;
// Where FLAC and Ogg files keep their comments: near the start.
const HEAD_BYTES = 256 * 1024;
const ID3V1_BYTES = 128;

/** ``{title, artist}`` of ``file`` (a File, or a Blob with a ``name``). */
export async function trackOfFile(file) {
  const first = await bytesOf(file, 0, 10);
  const head = await bytesOf(file, 0, headLength(file, first));
  const tail = await bytesOf(file, file.size - ID3V1_BYTES, file.size);
  return tagsOf(head, tail) ?? trackFromFileName(file.name);
}

async function bytesOf(file, start, end) {
  return new Uint8Array(await file.slice(Math.max(start, 0), end).arrayBuffer());
}

/** How much of the start of ``file`` holds its tags. */
function headLength(file, first) {
  const id3 = id3Size(first);
  return Math.min(id3 === null ? HEAD_BYTES : 10 + id3, MAX_TAG_BYTES, file.size);
}

/**
 * The title and artist in ``head`` (the start of a file) or ``tail`` (its
 * last 128 bytes, for ID3v1); null when neither has a title.
 */
export function tagsOf(head, tail = new Uint8Array()) {
  const found = id3v2(head) ?? flac(head) ?? ogg(head) ?? id3v1(tail);
  return found?.title ? found : null;
}

// --- ID3v2 --------------------------------------------------------------------

const ID3_FRAMES = {
  2: { title: "TT2", artist: "TP1" },
  3: { title: "TIT2", artist: "TPE1" },
  4: { title: "TIT2", artist: "TPE1" },
};

function id3Size(bytes) {
  if (bytes.length < 10 || ascii(bytes, 0, 3) !== "ID3") return null;
  return syncsafe(bytes, 6);
}

function id3v2(bytes) {
  const size = id3Size(bytes);
  const version = bytes[3];
  if (size === null || !ID3_FRAMES[version]) return null;
  const flags = bytes[5];
  let tag = bytes.subarray(10, Math.min(10 + size, bytes.length));
  if (flags & 0x80) tag = resynchronised(tag);
  let offset = 0;
  if (flags & 0x40 && version === 3) offset = 4 + uint32(tag, 0);
  if (flags & 0x40 && version === 4) offset = syncsafe(tag, 0);
  const names = ID3_FRAMES[version];
  const idLength = version === 2 ? 3 : 4;
  const headerLength = version === 2 ? 6 : 10;
  const found = {};
  while (offset + headerLength <= tag.length && tag[offset] !== 0) {
    const id = ascii(tag, offset, idLength);
    const frameSize =
      version === 2
        ? uint24(tag, offset + 3)
        : version === 4
          ? syncsafe(tag, offset + 4)
          : uint32(tag, offset + 4);
    const start = offset + headerLength;
    const end = start + frameSize;
    if (frameSize <= 0 || end > tag.length) break;
    const frameFlags = version === 2 ? 0 : tag[offset + 9];
    for (const [field, name] of Object.entries(names)) {
      if (id === name && !found[field])
        found[field] = id3Text(tag.subarray(start, end), version, frameFlags);
    }
    offset = end;
  }
  return found.title ? { title: found.title, artist: found.artist ?? "" } : null;
}

function id3Text(frame, version, flags) {
  // ID3v2.4 frame flags: compressed or encrypted frames are skipped; a data
  // length indicator comes before the text.
  if (version === 4 && flags & 0x0c) return "";
  const body = version === 4 && flags & 0x01 ? frame.subarray(4) : frame;
  const [encoding] = body;
  // Several values (ID3v2.4) are separated by NULs: the first is the one.
  return decodeText(body.subarray(1), encoding).split("\u0000")[0].trim();
}

function decodeText(bytes, encoding) {
  switch (encoding) {
    case 1:
      return new TextDecoder(bytes[0] === 0xfe ? "utf-16be" : "utf-16le").decode(withoutBom(bytes));
    case 2:
      return new TextDecoder("utf-16be").decode(bytes);
    case 3:
      return new TextDecoder("utf-8").decode(bytes);
    default:
      return new TextDecoder("latin1").decode(bytes);
  }
}

function withoutBom(bytes) {
  const bom = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  return bom ? bytes.subarray(2) : bytes;
}

/** The tag without its unsynchronisation bytes (every 0xFF 0x00 → 0xFF). */
function resynchronised(bytes) {
  const out = [];
  for (let index = 0; index < bytes.length; index += 1) {
    out.push(bytes[index]);
    if (bytes[index] === 0xff && bytes[index + 1] === 0x00) index += 1;
  }
  return Uint8Array.from(out);
}

// --- ID3v1 --------------------------------------------------------------------

function id3v1(tail) {
  if (tail.length < ID3V1_BYTES || ascii(tail, tail.length - ID3V1_BYTES, 3) !== "TAG") return null;
  const tag = tail.subarray(tail.length - ID3V1_BYTES);
  const field = (start) =>
    new TextDecoder("latin1")
      .decode(tag.subarray(start, start + 30))
      .split("\u0000")[0]
      .trim();
  const title = field(3);
  return title ? { title, artist: field(33) } : null;
}

// --- Vorbis comments: FLAC, Ogg Vorbis, Ogg Opus -------------------------------

function flac(bytes) {
  if (ascii(bytes, 0, 4) !== "fLaC") return null;
  let offset = 4;
  while (offset + 4 <= bytes.length) {
    const last = bytes[offset] & 0x80;
    const type = bytes[offset] & 0x7f;
    const length = uint24(bytes, offset + 1);
    const start = offset + 4;
    if (type === 4) return vorbisComments(bytes.subarray(start, start + length));
    if (last) break;
    offset = start + length;
  }
  return null;
}

function ogg(bytes) {
  if (ascii(bytes, 0, 4) !== "OggS") return null;
  // The comment packet of an Opus or Vorbis stream, read as far as the
  // bytes go: a title near its start is found even when the packet goes on.
  for (const [magic, skip] of [
    ["OpusTags", 8],
    ["\u0003vorbis", 7],
  ]) {
    const at = indexOf(bytes, magic);
    if (at >= 0) return vorbisComments(bytes.subarray(at + skip));
  }
  return null;
}

function vorbisComments(bytes) {
  let offset = 4 + uint32le(bytes, 0);
  const count = uint32le(bytes, offset);
  offset += 4;
  const found = {};
  for (let index = 0; index < count && offset + 4 <= bytes.length; index += 1) {
    const length = uint32le(bytes, offset);
    const comment = new TextDecoder("utf-8").decode(
      bytes.subarray(offset + 4, offset + 4 + length),
    );
    offset += 4 + length;
    const separator = comment.indexOf("=");
    const key = comment.slice(0, separator).toUpperCase();
    if ((key === "TITLE" || key === "ARTIST") && !found[key])
      found[key] = comment.slice(separator + 1).trim();
  }
  return found.TITLE ? { title: found.TITLE, artist: found.ARTIST ?? "" } : null;
}

// --- Bytes --------------------------------------------------------------------

function ascii(bytes, start, length) {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function indexOf(bytes, text) {
  const first = text.charCodeAt(0);
  for (let at = bytes.indexOf(first); at >= 0; at = bytes.indexOf(first, at + 1)) {
    if (ascii(bytes, at, text.length) === text) return at;
  }
  return -1;
}

function syncsafe(bytes, at) {
  return (
    ((bytes[at] & 0x7f) << 21) |
    ((bytes[at + 1] & 0x7f) << 14) |
    ((bytes[at + 2] & 0x7f) << 7) |
    (bytes[at + 3] & 0x7f)
  );
}

function uint32(bytes, at) {
  return ((bytes[at] << 24) >>> 0) + (bytes[at + 1] << 16) + (bytes[at + 2] << 8) + bytes[at + 3];
}

function uint24(bytes, at) {
  return (bytes[at] << 16) + (bytes[at + 1] << 8) + bytes[at + 2];
}

function uint32le(bytes, at) {
  return bytes[at] + (bytes[at + 1] << 8) + (bytes[at + 2] << 16) + ((bytes[at + 3] << 24) >>> 0);
}
