"""Partners: consent (bind, revoke), pulls, and the partners' signed pushes."""
from .. import bootstrap
from ..domain.consents import BindPartner
from ..errors import UnknownPartnerError
from ..services import consent, open_links, partner_sync, partners, webhooks
from . import shapes_consent, shapes_partners
from .fields import Field
from .path_ids import path_id
from .web import Routes, respond

routes = Routes(__name__)
CONSENT = (Field("phone_code", "phone_code 须为手机号按钮返回的 code", min_length=1, max_length=128,
                 rule="phone_code is required: the one-time code of the getPhoneNumber button, 1 to 128 characters"),)


@routes.route("/v1/partners", methods=["GET"])
def list_partners():
    caller = routes.caller()
    listed = partners.list_partners(caller.user_id, bootstrap.consents(), caller.platform)
    return respond(200, shapes_consent.partners_json(listed))


@routes.route("/v1/partners/{partner_id}/consent", methods=["PUT"])
def bind_partner(partner_id):
    caller = routes.caller()
    partner_id = path_id(partner_id, UnknownPartnerError())
    command = BindPartner(caller.user_id, partner_id, routes.body(*CONSENT)["phone_code"], caller.platform)
    return respond(200, shapes_consent.consent_state_json(consent.bind(command, bootstrap.consents())))


@routes.route("/v1/partners/{partner_id}/consent", methods=["DELETE"])
def revoke_partner(partner_id):
    caller = routes.caller()
    state = consent.revoke(caller.user_id, path_id(partner_id, UnknownPartnerError()), bootstrap.consents(),
                           platform=caller.platform)
    return respond(200, shapes_consent.consent_state_json(state))


@routes.route("/v1/partners/{partner_id}/sync", methods=["POST"])
def sync_partner(partner_id):
    caller = routes.caller()
    result = partner_sync.pull(caller.user_id, path_id(partner_id, UnknownPartnerError()), bootstrap.partner_uow(),
                               caller.platform)
    return respond(200, shapes_partners.sync_json(result))


@routes.route("/v1/webhooks/{partner_id}", methods=["POST"])
def partner_webhook(partner_id):
    partner_id = path_id(partner_id, UnknownPartnerError())  # before its signature is even looked at
    request = routes.current_request
    outcome = webhooks.push(partner_id, dict(request.headers.items()), routes.query(), request.raw_body or b"",
                            bootstrap.partner_uow, bootstrap.partner_tallies())
    return respond(200, shapes_partners.webhook_json(outcome))


@routes.route("/v1/partners/{partner_id}/link-code", methods=["POST"])
def link_code(partner_id):
    """A code the mini program hands to an open-protocol partner's mini program (open-protocol.md)."""
    caller = routes.caller()
    issued = open_links.issue(caller.user_id, path_id(partner_id, UnknownPartnerError()), caller.platform,
                              bootstrap.link_codes(), bootstrap.consents())
    return respond(201, {"link_code": issued.link_code, "expires_at": issued.expires_at})


@routes.route("/v1/open/links", methods=["POST"])
def open_link():
    """An open-protocol partner links its user to the owner of a link code (signed like its pushes)."""
    request = routes.current_request
    linked = open_links.link(dict(request.headers.items()), request.raw_body or b"", bootstrap.link_codes(),
                             bootstrap.consents(), bootstrap.replay_guards())
    return respond(200, {"linked": True, "bound_at": linked.bound_at})
