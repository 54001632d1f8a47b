import jsQR from 'jsqr';
import { useEffect, useRef, useState } from 'react';
import { useI18n } from './i18n.js';

/** What BarcodeDetector (Chrome, Android) gives; absent elsewhere, where jsQR reads QR codes. */
interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>;
}
type BarcodeDetectorConstructor = new (options: { formats: string[] }) => BarcodeDetectorLike;

const scanIntervalMs = 250;
/** A payment code: 18 digits, on its own or inside a scanned text. */
const paymentCodePattern = /(?:^|\D)(\d{18})(?:\D|$)/;

export function paymentCodeIn(text: string): string | null {
  return paymentCodePattern.exec(text.trim())?.[1] ?? null;
}

/**
 * Reads the customer's code with the camera: BarcodeDetector for code_128 and qr_code when the
 * browser has it, else jsQR on video frames (QR only). Calls onCode once with the 18 digits.
 */
export function CameraScanner({ onCode }: { onCode: (code: string) => void }) {
  const { t } = useI18n();
  const videoRef = useRef<HTMLVideoElement | null>(null);
  const [unavailable, setUnavailable] = useState(false);

  useEffect(() => {
    let stopped = false;
    let stream: MediaStream | null = null;
    let timer: number | undefined;
    const canvas = document.createElement('canvas');
    const Detector = (globalThis as { BarcodeDetector?: BarcodeDetectorConstructor }).BarcodeDetector;
    const detector = Detector === undefined ? null : new Detector({ formats: ['code_128', 'qr_code'] });

    async function scanFrame(video: HTMLVideoElement): Promise<string | null> {
      if (video.readyState < 2 || video.videoWidth === 0) return null;
      if (detector !== null) {
        for (const found of await detector.detect(video)) {
          const code = paymentCodeIn(found.rawValue);
          if (code !== null) return code;
        }
        return null;
      }
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      const context = canvas.getContext('2d', { willReadFrequently: true });
      if (context === null) return null;
      context.drawImage(video, 0, 0);
      const image = context.getImageData(0, 0, canvas.width, canvas.height);
      const found = jsQR(image.data, image.width, image.height);
      return found === null ? null : paymentCodeIn(found.data);
    }

    async function start() {
      if (navigator.mediaDevices?.getUserMedia === undefined) {
        setUnavailable(true);
        return;
      }
      try {
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      } catch {
        setUnavailable(true);
        return;
      }
      const video = videoRef.current;
      if (stopped || video === null) return;
      video.srcObject = stream;
      await video.play().catch(() => undefined);
      const tick = async () => {
        if (stopped) return;
        const code = await scanFrame(video).catch(() => null);
        if (code !== null && !stopped) {
          stopped = true;
          onCode(code);
          return;
        }
        timer = window.setTimeout(() => void tick(), scanIntervalMs);
      };
      void tick();
    }

    void start();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      for (const track of stream?.getTracks() ?? []) track.stop();
    };
  }, [onCode]);

  if (unavailable) {
    return (
      <p role="alert" className="error">
        {t('pos.cameraUnavailable')}
      </p>
    );
  }
  return <video ref={videoRef} className="camera" muted playsInline aria-label={t('pos.cameraVideo')} />;
}
