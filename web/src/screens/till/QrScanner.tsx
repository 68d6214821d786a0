import { Alert, Button, Modal, Stack, Text } from "@mantine/core";
import { useEffect, useRef, useState } from "react";
import { useTranslation } from "react-i18next";

import { scanQrCodes } from "../../lib/qrCamera";

/**
 * Reads a QR code with the device's camera (the back one on a phone or tablet) and hands over the
 * first text it decodes. The camera stops when the dialog closes.
 */
export default function QrScanner({ onDecoded, onClose }: { onDecoded: (text: string) => void; onClose: () => void }) {
  const { t } = useTranslation();
  // A state, not a ref: the dialog mounts the video element after this component mounts.
  const [element, setElement] = useState<HTMLVideoElement | null>(null);
  const [failure, setProblem] = useState<string | null>(null);
  const supported = "mediaDevices" in navigator;
  const problem = supported ? failure : t("till.cameraUnavailable");
  const decoded = useRef(onDecoded);
  useEffect(() => {
    decoded.current = onDecoded;
  }, [onDecoded]);

  useEffect(() => {
    if (element === null || !supported) return undefined;
    return scanQrCodes(
      element,
      (text) => decoded.current(text),
      (cause) => setProblem(cause === "denied" ? t("till.cameraDenied") : t("till.cameraUnavailable")),
    );
  }, [element, supported, t]);

  return (
    <Modal opened onClose={onClose} title={t("till.scanQr")} size="lg" centered>
      <Stack>
        {problem === null ? (
          <>
            <video ref={setElement} style={{ width: "100%", borderRadius: 8, background: "#000" }} muted playsInline />
            <Text size="sm">{t("till.scanHint")}</Text>
          </>
        ) : (
          <Alert color="orange" role="alert">
            {problem}
          </Alert>
        )}
        <Button size="lg" variant="default" onClick={onClose}>
          {t("common.close")}
        </Button>
      </Stack>
    </Modal>
  );
}
