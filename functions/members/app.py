"""Members as merchant systems see them: enroll at the till or in a shop, look up by card, phone or
email; and member care from the back office: the list, a member's page, editing, blocking, manual
adjustments, cards."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.care import MemberDetail
from loyalty.api.history import EntryPage, HistoryQuery
from loyalty.api.me import QrScan
from loyalty.api.members import (
    AdjustmentRequest,
    AdjustmentView,
    BlockRequest,
    CardBlockRequest,
    CardLinkRequest,
    CardReplaceRequest,
    EnrollRequest,
    MemberEdit,
    MemberList,
    MemberListQuery,
    MemberPage,
    MemberSearch,
    MemberView,
)
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest, NotFound
from loyalty.http.access import MANAGE, TILL
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, idempotent_reply, reply
from loyalty.services import auth, care, enrollment, history, members

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__, tags=("Members",))


@bp.route(
    "/v1/members",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="Enroll a member by phone; a virtual card is issued unless a physical one is linked",
    request=EnrollRequest,
    response=MemberView,
    status=201,
    errors=(409, 422),
)
def enroll_member() -> object:
    request = bp.parse(EnrollRequest)
    cipher = runtime.current().cipher()
    now = utcnow()
    member = enrollment.enroll(bp.merchant_id(), request, now, cipher)
    return reply(201, members.view(member, cipher, now))


@bp.route(
    "/v1/members/{member_id}",
    methods=["GET"],
    authorizer=merchant_key,
    access=TILL,
    summary="A member's page: card(s), masked contacts, status, balance and pending points, tier and "
    "progress, totals, consents, coupons",
    response=MemberDetail,
    errors=(404,),
)
def get_member(member_id: str) -> object:
    cipher = runtime.current().cipher()
    member = members.get_existing(bp.merchant_id(), member_id)
    return reply(200, care.detail(member, cipher, utcnow()))


@bp.route(
    "/v1/members",
    methods=["GET"],
    authorizer=merchant_key,
    access=TILL,
    summary="Find a member by phone, card number or email (an empty list when none matches)",
    query=MemberSearch,
    response=MemberList,
)
def find_members() -> object:
    search = bp.query_model(MemberSearch)
    given = [value for value in (search.phone, search.card, search.email) if value is not None]
    if len(given) != 1:
        raise InvalidRequest(
            "search by exactly one of ?phone=, ?card= or ?email=", details={"fields": ["phone", "card", "email"]}
        )
    merchant_id = bp.merchant_id()
    cipher = runtime.current().cipher()
    try:
        member_id = members.find_member_id(
            merchant_id, phone=search.phone, card_number=search.card, email=search.email, cipher=cipher
        )
    except NotFound:
        return reply(200, MemberList(members=[]))
    member = members.get_existing(merchant_id, member_id)
    return reply(200, MemberList(members=[members.view(member, cipher, utcnow())]))


@bp.route(
    "/v1/members/list",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="The member list, newest first, page by page: by tier, status, enrolment or last-purchase date",
    query=MemberListQuery,
    response=MemberPage,
)
def list_members() -> object:
    query = bp.query_model(MemberListQuery)
    return reply(200, care.list_members(bp.merchant_id(), query, runtime.current().cipher(), utcnow()))


@bp.route(
    "/v1/members/{member_id}",
    methods=["PATCH"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Correct a member's name, phone, email or birthday (a phone or email of another member is a 409)",
    request=MemberEdit,
    response=MemberDetail,
    errors=(404, 409),
)
def edit_member(member_id: str) -> object:
    request = bp.parse(MemberEdit)
    detail = care.edit(bp.merchant_id(), member_id, request, bp.actor(), runtime.current().cipher(), utcnow())
    return reply(200, detail)


@bp.route(
    "/v1/members/{member_id}/block",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Block a member: no earning or spending at the till or in the app until unblocked",
    request=BlockRequest,
    response=MemberDetail,
    errors=(404,),
)
def block_member(member_id: str) -> object:
    reason = bp.parse(BlockRequest).reason
    return reply(200, care.block(bp.merchant_id(), member_id, reason, bp.actor(), runtime.current().cipher(), utcnow()))


@bp.route(
    "/v1/members/{member_id}/unblock",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Unblock a member",
    response=MemberDetail,
    errors=(404,),
)
def unblock_member(member_id: str) -> object:
    return reply(200, care.unblock(bp.merchant_id(), member_id, bp.actor(), runtime.current().cipher(), utcnow()))


@bp.route(
    "/v1/members/{member_id}/adjustments",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Add or take points by hand, with a reason: a ledger entry, once per adjustment_id",
    request=AdjustmentRequest,
    response=AdjustmentView,
    status=201,
    errors=(404, 409, 503),
    idempotent=True,
)
def post_adjustment(member_id: str) -> object:
    request = bp.parse(AdjustmentRequest)
    view, replayed = care.adjust(bp.merchant_id(), member_id, request, bp.actor(), utcnow())
    return idempotent_reply(201, view, replayed)


@bp.route(
    "/v1/members/{member_id}/cards",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Link a plastic card to the member (one a card order reserved, or any free number)",
    request=CardLinkRequest,
    response=MemberDetail,
    errors=(404, 409, 422),
)
def link_card(member_id: str) -> object:
    number = bp.parse(CardLinkRequest).card_number
    cipher = runtime.current().cipher()
    return reply(200, care.link_card(bp.merchant_id(), member_id, number, bp.actor(), cipher, utcnow()))


@bp.route(
    "/v1/members/{member_id}/cards/{card_number}/replace",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Replace a lost card: the old number stops working at once; a new plastic or virtual card takes its place",
    request=CardReplaceRequest,
    response=MemberDetail,
    errors=(404, 409, 422),
)
def replace_card(member_id: str, card_number: str) -> object:
    request = bp.parse(CardReplaceRequest)
    detail = care.replace_card(
        bp.merchant_id(),
        member_id,
        card_number,
        request.new_card_number,
        request.reason,
        bp.actor(),
        runtime.current().cipher(),
        utcnow(),
    )
    return reply(200, detail)


@bp.route(
    "/v1/members/{member_id}/cards/{card_number}/block",
    methods=["POST"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="Block one of the member's cards: it stops finding the member at once",
    request=CardBlockRequest,
    response=MemberDetail,
    errors=(404, 422),
)
def block_card(member_id: str, card_number: str) -> object:
    reason = bp.parse(CardBlockRequest).reason
    cipher = runtime.current().cipher()
    return reply(200, care.block_card(bp.merchant_id(), member_id, card_number, reason, bp.actor(), cipher, utcnow()))


@bp.route(
    "/v1/members/{member_id}/transactions",
    methods=["GET"],
    authorizer=merchant_key,
    access=MANAGE,
    summary="A member's ledger, newest first, page by page",
    query=HistoryQuery,
    response=EntryPage,
    errors=(404,),
)
def member_transactions(member_id: str) -> object:
    query = bp.query_model(HistoryQuery)
    page = history.entries(bp.merchant_id(), member_id, limit=query.limit, cursor=query.cursor)
    return reply(200, page)


@bp.route(
    "/v1/members/qr",
    methods=["POST"],
    authorizer=merchant_key,
    access=TILL,
    summary="The member behind a QR code scanned at the till (the app's codes are valid for a minute)",
    request=QrScan,
    response=MemberView,
    errors=(404,),
    reads_only=True,
)
def scan_qr() -> object:
    request = bp.parse(QrScan)
    merchant_id = bp.merchant_id()
    card = auth.card_from_qr(merchant_id, request.payload, runtime.current().keys().token_key, utcnow())
    cipher = runtime.current().cipher()
    member = members.get_existing(merchant_id, members.find_member_id(merchant_id, card_number=card, cipher=cipher))
    return reply(200, members.view(member, cipher, utcnow()))


app = create_app("members", bp)
