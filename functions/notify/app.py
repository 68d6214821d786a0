"""Notifications: the worker that delivers domain events (SMS, push, email), the job that sends
what quiet hours held back, campaign fan-out, and the merchant's routes for templates, settings,
consents, opt-outs, push devices, the delivery log and campaigns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from loyalty import runtime
from loyalty.api.notifications import (
    CampaignRequest,
    CampaignView,
    ConsentsUpdate,
    ConsentsView,
    DeliveryPage,
    DeviceRemovedView,
    DeviceView,
    OptOutRequest,
    PreviewView,
    PushTokenRequest,
    SettingsView,
    TemplateBody,
    TemplateList,
    TemplatesUpdate,
)
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest
from loyalty.events import DomainEvent
from loyalty.http.access import MANAGE
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply, reply, validation_details
from loyalty.notifications.kinds import Channel
from loyalty.notifications.sending import Provider
from loyalty.platform.observability import logger, metrics, observed_handler
from loyalty.platform.providers import SesEmail, SnsPush, SnsSms
from loyalty.platform.queues import QueueConsumer, eventbridge_detail
from loyalty.platform.schedule import scheduled_now
from loyalty.services import campaigns, messaging
from loyalty.services.notify import Notifier
from pydantic import ValidationError

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


class NotifyConfig(CoreConfig):
    notify_queue_url: str
    notify_dlq_url: str
    notify_max_receive_count: int = 5
    campaign_queue_url: str
    campaign_dlq_url: str
    campaign_max_receive_count: int = 5
    email_from: str
    fcm_platform_application_arn: str = ""
    apns_platform_application_arn: str = ""


CONFIG = NotifyConfig.from_env()
runtime.bootstrap(CONFIG)
PROVIDERS: dict[Channel, Provider] = {Channel.SMS: SnsSms(), Channel.PUSH: SnsPush(), Channel.EMAIL: SesEmail()}
PLATFORM_APPLICATIONS = {"fcm": CONFIG.fcm_platform_application_arn, "apns": CONFIG.apns_platform_application_arn}


def notifier() -> Notifier:
    return Notifier(PROVIDERS, runtime.current().cipher(), CONFIG.email_from)


bp = ApiBlueprint(__name__, tags=("Notifications",))


@bp.route(
    "/v1/notification-templates",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Every notification template: the merchant's own wording or the default",
    response=TemplateList,
)
def get_templates() -> object:
    return reply(200, TemplateList(templates=messaging.list_templates(bp.merchant_id())))


@bp.route(
    "/v1/notification-templates",
    methods=["PUT"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Save templates: all are checked first, and all or none are saved",
    request=TemplatesUpdate,
    response=TemplateList,
)
def put_templates() -> object:
    request = bp.parse(TemplatesUpdate)
    return reply(200, TemplateList(templates=messaging.save_templates(bp.merchant_id(), request.templates, utcnow())))


@bp.route(
    "/v1/notification-templates/preview",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Render a template with sample values, and count its SMS segments",
    request=TemplateBody,
    response=PreviewView,
    reads_only=True,
)
def post_preview() -> object:
    bp.merchant_id()
    return reply(200, messaging.preview_template(bp.parse(TemplateBody)))


@bp.route(
    "/v1/notification-settings",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Notification settings: channels, quiet hours, which events notify",
    response=SettingsView,
)
def get_settings() -> object:
    return reply(200, SettingsView(settings=messaging.get_settings(bp.merchant_id())))


@bp.route(
    "/v1/notification-settings",
    methods=["PUT"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Replace the notification settings",
    request=SettingsView,
    response=SettingsView,
)
def put_settings() -> object:
    settings = bp.parse(SettingsView).settings
    return reply(200, SettingsView(settings=messaging.save_settings(bp.merchant_id(), settings)))


@bp.route(
    "/v1/members/{member_id}/consents",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="What a member agreed to receive, per channel",
    response=ConsentsView,
    errors=(404,),
)
def get_consents(member_id: str) -> object:
    return reply(200, messaging.get_consents(bp.merchant_id(), member_id))


@bp.route(
    "/v1/members/{member_id}/consents",
    methods=["PUT"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Change a member's consents (fields left out stay as they are)",
    request=ConsentsUpdate,
    response=ConsentsView,
    errors=(404, 503),
)
def put_consents(member_id: str) -> object:
    return reply(200, messaging.update_consents(bp.merchant_id(), member_id, bp.parse(ConsentsUpdate), utcnow()))


@bp.route(
    "/v1/opt-outs",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Opt a member out (an SMS STOP reply or an unsubscribe link), at once",
    request=OptOutRequest,
    response=ConsentsView,
    errors=(404, 503),
)
def post_opt_out() -> object:
    request = bp.parse(OptOutRequest)
    return reply(200, messaging.opt_out(bp.merchant_id(), request, utcnow(), runtime.current().cipher()))


@bp.route(
    "/v1/members/{member_id}/push-tokens",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Register a member's device for push notifications",
    request=PushTokenRequest,
    response=DeviceView,
    status=201,
    errors=(404, 503),
)
def post_push_token(member_id: str) -> object:
    request = bp.parse(PushTokenRequest)
    device = messaging.register_device(bp.merchant_id(), member_id, request, utcnow(), PLATFORM_APPLICATIONS)
    return reply(201, device)


@bp.route(
    "/v1/members/{member_id}/push-tokens/{device_id}",
    methods=["DELETE"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Forget a device (by its id or push token); forgetting an unknown one is not an error",
    response=DeviceRemovedView,
    errors=(404,),
)
def delete_push_token(member_id: str, device_id: str) -> object:
    messaging.remove_device(bp.merchant_id(), member_id, device_id)
    return reply(200, DeviceRemovedView(deleted=True))


@bp.route(
    "/v1/members/{member_id}/notifications",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="The member's latest notifications and what became of each",
    response=DeliveryPage,
    errors=(404,),
)
def get_deliveries(member_id: str) -> object:
    return reply(200, messaging.deliveries(bp.merchant_id(), member_id))


@bp.route(
    "/v1/campaigns",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Start a campaign to a segment of members; once per campaign_id",
    request=CampaignRequest,
    response=CampaignView,
    status=202,
    errors=(409,),
    idempotent=True,
)
def post_campaign() -> object:
    request = bp.parse(CampaignRequest)
    view, replayed = campaigns.start(bp.merchant_id(), request, utcnow(), CONFIG.campaign_queue_url)
    return idempotent_reply(202, view, replayed)


@bp.route(
    "/v1/campaigns/{campaign_id}",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="A campaign's progress",
    response=CampaignView,
    errors=(404,),
)
def get_campaign(campaign_id: str) -> object:
    return reply(200, campaigns.get_campaign(bp.merchant_id(), campaign_id))


app = create_app("notify", bp)


def deliver(record: SQSRecord) -> None:
    try:
        event = DomainEvent.model_validate(eventbridge_detail(record))
    except (ValidationError, ValueError) as exc:
        raise InvalidRequest("not a domain event", details=str(exc)[:300]) from exc
    outcome = notifier().deliver(event, utcnow())
    metrics.add_metric(name=f"Notification_{outcome.status}", unit="Count", value=1)
    logger.info(
        "notification",
        extra={
            "event_id": event.event_id,
            "kind": event.type,
            "channel": outcome.channel,
            "status": outcome.status,
            "reason": outcome.reason,
        },
    )


notifications = QueueConsumer(
    "Notifications", deliver, dlq_url=CONFIG.notify_dlq_url, max_receive_count=CONFIG.notify_max_receive_count
)


@observed_handler
def handle_notifications(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return notifications(event, context)


@observed_handler
def send_deferred(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    return notifier().deliver_deferred(scheduled_now(event))


def campaign_page(record: SQSRecord) -> None:
    try:
        message = campaigns.PageMessage.model_validate_json(record.body)
    except ValidationError as exc:
        raise InvalidRequest("not a campaign page", details=validation_details(exc)) from exc
    campaigns.run_page(message, utcnow(), CONFIG.notify_queue_url, CONFIG.campaign_queue_url)


campaign_pages = QueueConsumer(
    "CampaignPages", campaign_page, dlq_url=CONFIG.campaign_dlq_url, max_receive_count=CONFIG.campaign_max_receive_count
)


@observed_handler
def handle_campaign_pages(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return campaign_pages(event, context)
