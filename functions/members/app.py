"""Members as merchant systems see them: enroll at the till or in a shop, look up by card or phone."""

from __future__ import annotations

from loyalty import runtime
from loyalty.api.history import HistoryQuery
from loyalty.api.members import EnrollRequest, MemberList
from loyalty.clock import utcnow
from loyalty.config import CoreConfig
from loyalty.errors import InvalidRequest, NotFound
from loyalty.http.app import create_app
from loyalty.http.auth import merchant_key
from loyalty.http.blueprint import ApiBlueprint, reply
from loyalty.services import enrollment, history, members

CONFIG = CoreConfig.from_env()
runtime.bootstrap(CONFIG)

bp = ApiBlueprint(__name__)


@bp.route("/v1/members", methods=["POST"], authorizer=merchant_key)
def enroll_member() -> object:
    request = bp.parse(EnrollRequest)
    cipher = runtime.current().cipher()
    now = utcnow()
    member = enrollment.enroll(bp.merchant_id(), request, now, cipher)
    return reply(201, members.view(member, cipher, now))


@bp.route("/v1/members/{member_id}", methods=["GET"], authorizer=merchant_key)
def get_member(member_id: str) -> object:
    cipher = runtime.current().cipher()
    member = members.get_member(bp.merchant_id(), member_id)
    return reply(200, members.view(member, cipher, utcnow()))


@bp.route("/v1/members", methods=["GET"], authorizer=merchant_key)
def find_members() -> object:
    phone, card = bp.query("phone"), bp.query("card")
    if (phone is None) == (card is None):
        raise InvalidRequest("search by exactly one of ?phone= or ?card=", details={"fields": ["phone", "card"]})
    merchant_id = bp.merchant_id()
    cipher = runtime.current().cipher()
    try:
        member_id = members.find_member_id(merchant_id, phone=phone, card_number=card, cipher=cipher)
    except NotFound:
        return reply(200, MemberList(members=[]))
    member = members.get_member(merchant_id, member_id)
    return reply(200, MemberList(members=[members.view(member, cipher, utcnow())]))


@bp.route("/v1/members/{member_id}/transactions", methods=["GET"], authorizer=merchant_key)
def member_transactions(member_id: str) -> object:
    query = bp.query_model(HistoryQuery)
    page = history.entries(bp.merchant_id(), member_id, limit=query.limit, cursor=query.cursor)
    return reply(200, page)


app = create_app("members", bp)
