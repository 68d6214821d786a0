"""Members as merchant systems see them: enroll at the till or in a shop, look up by card or phone."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.history import EntryPage, HistoryQuery
from loyalty.api.me import QrScan
from loyalty.api.members import EnrollRequest, MemberList, MemberSearch, MemberView
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest, NotFound
from loyalty.http.access import MANAGE, TILL
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.services import auth, enrollment, history, members

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
    summary="A member: card, masked contacts, tier and balance",
    response=MemberView,
    errors=(404,),
)
def get_member(member_id: str) -> object:
    cipher = runtime.current().cipher()
    member = members.get_active(bp.merchant_id(), member_id, consistent=True)
    return reply(200, members.view(member, cipher, utcnow()))


@bp.route(
    "/v1/members",
    methods=["GET"],
    authorizer=merchant_key,
    access=TILL,
    summary="Find a member by phone or card number (an empty list when none matches)",
    query=MemberSearch,
    response=MemberList,
)
def find_members() -> object:
    search = bp.query_model(MemberSearch)
    phone, card = search.phone, search.card
    if (phone is None) == (card is None):
        raise InvalidRequest("search by exactly one of ?phone= or ?card=", details={"fields": ["phone", "card"]})
    merchant_id = bp.merchant_id()
    cipher = runtime.current().cipher()
    try:
        member_id = members.find_member_id(merchant_id, phone=phone, card_number=card, cipher=cipher)
    except NotFound:
        return reply(200, MemberList(members=[]))
    member = members.get_active(merchant_id, member_id, consistent=True)
    return reply(200, MemberList(members=[members.view(member, cipher, utcnow())]))


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
)
def scan_qr() -> object:
    request = bp.parse(QrScan)
    merchant_id = bp.merchant_id()
    card = auth.card_from_qr(merchant_id, request.payload, runtime.current().keys().token_key)
    cipher = runtime.current().cipher()
    member = members.get_active(merchant_id, members.find_member_id(merchant_id, card_number=card, cipher=cipher))
    return reply(200, members.view(member, cipher, utcnow()))


app = create_app("members", bp)
