/** How long a download's Blob URL outlives the click that starts it (the browser reads it first). */
const blobUrlLifeMs = 60_000;

/**
 * Saves text as a file through a Blob URL and a temporary link: no inline script, so the strict
 * CSP holds (default-src 'self' does not govern downloads).
 */
export function saveTextAsFile(text: string, fileName: string, type: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), blobUrlLifeMs);
}
