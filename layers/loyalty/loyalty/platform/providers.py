"""The notification channels' providers in AWS: SMS and mobile push through SNS, email through SES."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from loyalty.notifications.sending import Message, ProviderError, RecipientGone
from loyalty.platform.aws import client


def _failed(exc: ClientError) -> Exception:
    code = exc.response.get("Error", {}).get("Code", "")
    if code in ("EndpointDisabled", "InvalidParameter", "InvalidParameterValue"):
        return RecipientGone(code)
    return ProviderError(code or "provider error")


class SnsSms:
    def send(self, message: Message) -> str:
        attributes = {
            "AWS.SNS.SMS.SMSType": {
                "DataType": "String",
                "StringValue": "Promotional" if message.marketing else "Transactional",
            },
        }
        if message.sender:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": message.sender}
        try:
            response = client("sns").publish(PhoneNumber=message.to, Message=message.body, MessageAttributes=attributes)
        except ClientError as exc:
            raise _failed(exc) from exc
        return str(response["MessageId"])


class SnsPush:
    def send(self, message: Message) -> str:
        payload = {"title": message.subject or "", "body": message.body}
        document = {
            "default": message.body,
            "GCM": json.dumps({"notification": payload}, ensure_ascii=False),
            "APNS": json.dumps({"aps": {"alert": payload}}, ensure_ascii=False),
        }
        try:
            response = client("sns").publish(
                TargetArn=message.to, Message=json.dumps(document, ensure_ascii=False), MessageStructure="json"
            )
        except ClientError as exc:
            raise _failed(exc) from exc
        return str(response["MessageId"])


class SesEmail:
    def send(self, message: Message) -> str:
        try:
            response = client("sesv2").send_email(
                FromEmailAddress=message.sender or "noreply@loyalty.example",
                Destination={"ToAddresses": [message.to]},
                Content={
                    "Simple": {
                        "Subject": {"Data": message.subject or "", "Charset": "UTF-8"},
                        "Body": {"Text": {"Data": message.body, "Charset": "UTF-8"}},
                    }
                },
            )
        except ClientError as exc:
            raise _failed(exc) from exc
        return str(response["MessageId"])
