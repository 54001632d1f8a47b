import { PNG } from 'pngjs';

/**
 * Chromium's fake camera (--use-file-for-fake-video-capture) plays a Y4M video: this one shows a
 * QR code image, so that the apps' camera scanning reads real frames in tests.
 */
const frameWidth = 640;
const frameHeight = 480;

/** A two-frame YUV4MPEG2 video (4:2:0) showing the PNG centred on white, in grey. */
export function qrVideo(pngBytes: Buffer): Buffer {
  const png = PNG.sync.read(pngBytes);
  const scale = Math.max(1, Math.floor(Math.min(frameWidth, frameHeight) / Math.max(png.width, png.height) / 1.2));
  const left = Math.floor((frameWidth - png.width * scale) / 2);
  const top = Math.floor((frameHeight - png.height * scale) / 2);
  const luma = Buffer.alloc(frameWidth * frameHeight, 235);
  for (let y = 0; y < png.height * scale; y += 1) {
    for (let x = 0; x < png.width * scale; x += 1) {
      const source = ((Math.floor(y / scale) * png.width + Math.floor(x / scale)) << 2) >>> 0;
      const grey = (png.data[source]! * 299 + png.data[source + 1]! * 587 + png.data[source + 2]! * 114) / 1000;
      luma[(top + y) * frameWidth + left + x] = 16 + Math.round((grey * 219) / 255);
    }
  }
  const chroma = Buffer.alloc((frameWidth / 2) * (frameHeight / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  return Buffer.concat([
    Buffer.from(`YUV4MPEG2 W${frameWidth} H${frameHeight} F10:1 Ip A1:1 C420jpeg\n`),
    frame,
    frame,
  ]);
}
