import jsQR from "jsqr";

/** Why the camera could not be used: the person refused it, or there is none (or it is busy). */
export type CameraProblem = "denied" | "unavailable";

const SCAN_EVERY_MS = 150;
// Frames are scaled down before decoding: the cost grows with the pixels, and a code held up to
// the camera fills much of the picture.
const MAX_SIDE = 720;

/**
 * Plays the device's camera (the back one on a phone or tablet) in `video` and decodes QR codes
 * from its frames with jsQR until one is read; then the camera stops and `onDecoded` gets the text.
 * jsQR rather than ZXing's JavaScript port: ZXing missed about one member-app code in four
 * however long it looked (measured on rendered codes of the app's length).
 * Returns the function that stops the camera (call it when the view closes).
 */
export function scanQrCodes(
  video: HTMLVideoElement,
  onDecoded: (text: string) => void,
  onProblem: (problem: CameraProblem) => void,
): () => void {
  let stream: MediaStream | null = null;
  let timer: number | undefined;
  let stopped = false;
  const canvas = document.createElement("canvas");
  const context = canvas.getContext("2d", { willReadFrequently: true });

  const stop = () => {
    stopped = true;
    window.clearTimeout(timer);
    stream?.getTracks().forEach((track) => track.stop());
  };

  const decodeFrame = (): string | null => {
    if (context === null || video.readyState < HTMLMediaElement.HAVE_CURRENT_DATA || video.videoWidth === 0) {
      return null;
    }
    const scale = Math.min(1, MAX_SIDE / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const frame = context.getImageData(0, 0, canvas.width, canvas.height);
    const code = jsQR(frame.data, frame.width, frame.height);
    return code !== null && code.data !== "" ? code.data : null;
  };

  const scan = () => {
    if (stopped) return;
    const text = decodeFrame();
    if (text !== null) {
      stop();
      onDecoded(text);
      return;
    }
    timer = window.setTimeout(scan, SCAN_EVERY_MS);
  };

  navigator.mediaDevices
    .getUserMedia({ video: { facingMode: "environment" }, audio: false })
    .then(async (media) => {
      stream = media;
      if (stopped) {
        stop();
        return;
      }
      video.srcObject = media;
      await video.play();
      scan();
    })
    .catch((error: unknown) => {
      if (stopped) return;
      stop();
      onProblem(error instanceof DOMException && error.name === "NotAllowedError" ? "denied" : "unavailable");
    });
  return stop;
}
