import jsQR from 'jsqr';

/** Decoding merchant QR codes from pictures and camera frames: BarcodeDetector when the browser has it, else jsQR. */

interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: ImageBitmapSource): Promise<DetectedBarcode[]>;
}
type BarcodeDetectorConstructor = new (options: { formats: string[] }) => BarcodeDetectorLike;

/** The largest picture side decoded (larger pictures are scaled down first). */
const imageSideMax = 1600;

function barcodeDetector(): BarcodeDetectorLike | null {
  const constructor = (globalThis as { BarcodeDetector?: BarcodeDetectorConstructor }).BarcodeDetector;
  if (constructor === undefined) return null;
  try {
    return new constructor({ formats: ['qr_code'] });
  } catch {
    return null;
  }
}

function decodeCanvas(source: CanvasImageSource, width: number, height: number): string | null {
  const scale = Math.min(1, imageSideMax / Math.max(width, height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.max(1, Math.round(width * scale));
  canvas.height = Math.max(1, Math.round(height * scale));
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (context === null) return null;
  context.drawImage(source, 0, 0, canvas.width, canvas.height);
  const image = context.getImageData(0, 0, canvas.width, canvas.height);
  return jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' })?.data ?? null;
}

async function detect(source: ImageBitmap | HTMLVideoElement, width: number, height: number): Promise<string | null> {
  const detector = barcodeDetector();
  if (detector !== null) {
    try {
      const found = await detector.detect(source);
      if (found[0] !== undefined) return found[0].rawValue;
    } catch {
      // Fall back to jsQR.
    }
  }
  return decodeCanvas(source, width, height);
}

/** The QR text in an uploaded picture, or null. */
export async function decodeQrFile(file: Blob): Promise<string | null> {
  const bitmap = await createImageBitmap(file);
  try {
    return await detect(bitmap, bitmap.width, bitmap.height);
  } finally {
    bitmap.close();
  }
}

/** The QR text in the video's current frame, or null. */
export function decodeQrFrame(video: HTMLVideoElement): Promise<string | null> {
  if (video.videoWidth === 0 || video.videoHeight === 0) return Promise.resolve(null);
  return detect(video, video.videoWidth, video.videoHeight);
}
