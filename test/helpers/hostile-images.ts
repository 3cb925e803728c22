import { deflateSync } from 'node:zlib'

/**
 * Images built byte by byte to be hostile: headers that declare more pixels than any decoder should allocate, and
 * small files that inflate to a lot (decompression bombs). Written here rather than with sharp, which refuses to
 * make them.
 */

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32 (bytes: Buffer): number {
  let c = 0xffffffff
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk (type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([length, body, crc])
}

/**
 * A greyscale 8-bit PNG that declares `width` x `height` and carries `rows` rows of zeros (all of them when
 * `rows` is undefined): a few kilobytes that claim, or inflate to, up to width x height bytes.
 */
export function pngBomb (width: number, height: number, rows?: number): Buffer {
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 0, 0, 0, 0], 8)
  const carried = Math.min(rows ?? height, height)
  // one filter byte (0) per row, then the row's zeros: compresses about a thousandfold
  const raw = Buffer.alloc(carried * (width + 1))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** `jpeg` with the dimensions in its first start-of-frame header replaced (the data still describes the old size). */
export function jpegClaiming (jpeg: Buffer, width: number, height: number): Buffer {
  const copy = Buffer.from(jpeg)
  for (let i = 2; i + 9 < copy.length; i++) {
    if (copy[i] === 0xff && copy[i + 1]! >= 0xc0 && copy[i + 1]! <= 0xc2) {
      copy.writeUInt16BE(height, i + 5)
      copy.writeUInt16BE(width, i + 7)
      return copy
    }
  }
  return copy
}
