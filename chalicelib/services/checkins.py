"""award_checkin: a self-reported check-in (POST /v1/checkins), one behaviour, one entry, refused whole at a cap.

    route (api/checkins.py) -> award_checkin -> caps and odometer rules (domain/) -> one posting
    (store/unit_of_work.py: a consistent GetItem of the account, one TransactWriteItems)

A check-in with an odometer reading (green parking) earns only when the reading shows the car did not move
since the person's latest reading (domain/odometer.py). The latest reading is on the account, so the one
consistent read gives it and the check-in's transaction, conditioned on the account's version, replaces it.
A reading that does not show a parked day (`moved`, `decreased`) is still a successful check-in: an `earn`
entry of 0 points and 0 carbon whose inputs keep the evidence and why (`verified: false`, `reason`), the
reading kept as the new starting point, the day's one check-in of the behaviour used, and the result
remembered for its request_id like any success (api.md: a failure changes nothing). The result then also
carries the `verification`, so the mini program can say why nothing was earned.

A behaviour whose evidence includes a photo (`"evidence": ["photo"]`) takes `{"upload_id"}` (POST /v1/uploads):
the photo is read and hashed, and the account's consistent read becomes one BatchGetItem that also reads the
earlier photos near it; a photo near one already used, or an upload already used, is 409 EVIDENCE_REUSED
(services/evidence.py). A check-in without a photo makes exactly its calls of before.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from ..domain import clock, odometer, persons, risk
from ..domain import evidence as photo_rules
from ..domain.caps import DayCount
from ..domain.commands import AwardCheckin
from ..domain.guards import GuardFailed, IdempotencyKeyFree, PersonUnderDailyLimit
from ..domain.guards_evidence import PhotoHashUnused, UploadUnused
from ..domain.methodology import Rule, RuleError, parse_quantity, plain
from ..domain.posting import Posting, day_count
from ..domain.refusals import award_within_caps, refuse_frozen
from ..domain.results import CheckinResult, Verification
from ..domain.review import Flag
from ..errors import (
    DailyLimitReachedError,
    EvidenceReusedError,
    NotSelfReportableError,
    UploadNotFoundError,
    ValidationError,
)
from ..store.unit_of_work import PostingUnitOfWork  # the port: store/dynamo_uow.py, tests/unit/fakes.py
from . import evidence as photos

ROUTE = "POST /v1/checkins"  # the operation idempotency records name (kept: records of 48 hours replay)
ODOMETER_MAX_KM = Decimal("2000000")


def award_checkin(command: AwardCheckin, uow: PostingUnitOfWork) -> CheckinResult:
    rule = uow.catalog.behavior(command.behavior, command.platform)  # the platform's points and caps
    if "checkin" not in rule.channels:
        raise NotSelfReportableError(behavior=rule.code)
    quantity = quantity_of(rule, command.quantity)
    evidence = evidence_of(rule, command.evidence)
    day = clock.business_day(clock.now())
    reading = _reading(evidence, quantity, day)
    once = IdempotencyKeyFree(command.user_id, command.request_id, ROUTE,
                              {"behavior": rule.code, "quantity": str(quantity), "evidence": evidence})
    photo = _photo(command, evidence, uow, once) if photo_rules.PHOTO in rule.evidence else None
    if isinstance(photo, CheckinResult):  # a retry of a check-in whose photo has gone since: its first answer
        return photo
    try:
        return _post(command, uow, rule, quantity, evidence, day, reading, once, photo)
    except GuardFailed as refused:
        if isinstance(refused.guard, UploadUnused):  # a concurrent check-in took the upload first
            raise EvidenceReusedError(reason="upload_used") from None
        if isinstance(refused.guard, PhotoHashUnused):  # a concurrent check-in of the very same photo
            _refused_photo(command, uow)
            raise photos.PhotoReusedError(reason="photo_reused") from None
        # the person's check-ins on every platform reached the deployment's limit
        raise DailyLimitReachedError(cap="daily_limit", behavior=rule.code) from refused
    except photos.PhotoReusedError:
        _refused_photo(command, uow)
        raise


def _photo(command: AwardCheckin, evidence: dict, uow: PostingUnitOfWork,
           once: IdempotencyKeyFree) -> photos.Photo | CheckinResult:
    """The photo read and hashed; UPLOAD_NOT_FOUND unless this very request already succeeded (a retry after
    the upload's 24 hours or after the photo was deleted: one GetItem, on that path only)."""
    try:
        return photos.inspect_photo(command.user_id, command.platform, evidence["upload_id"])
    except UploadNotFoundError:
        remembered = uow.remembered(once)
        if remembered is None:
            raise
        return remembered


def _refused_photo(command: AwardCheckin, uow: PostingUnitOfWork) -> None:
    """The refusal remembered on the account (rule 3 counts them; the one that reaches the catalog's number puts
    the person under review), from the account the posting read."""
    photos.record_photo_refusal(uow, command.user_id, getattr(uow, "account", None), command.request_id)


def _post(command: AwardCheckin, uow: PostingUnitOfWork, rule: Rule, quantity: Decimal, evidence: dict, day: date,
          reading: odometer.Reading | None, once: IdempotencyKeyFree, photo: photos.Photo | None) -> CheckinResult:
    first, known, used = uow.photos.read_with_account(command.user_id, photo.photo_hash, photo.upload_id) \
        if photo else (None, set(), False)
    settings = uow.catalog.risk_settings()
    with uow.posting(command.user_id, once, command.request_id, account=first) as posting:
        for account in posting.attempts():
            refuse_frozen(account)
            if photo:
                photos.refuse_reused(photo, known, used)
            award = award_within_caps(rule, day_count(account, day, rule.code), quantity)
            verdict = _parked(account, reading, rule) if reading else None
            shown = {**evidence, "photo_hash": photo_rules.hex_of(photo.photo_hash)} if photo else evidence
            inputs = {**award.inputs, **({"evidence": shown} if evidence else {}),
                      **(verdict.inputs() if verdict else {})}
            entry = Posting("earn", award.points, award.carbon_mg, "checkin", behavior=rule.code, rule=rule,
                            inputs=inputs, day=day, day_count=award.day)
            if verdict and not verdict.verified:  # the day's check-in, worth nothing: counts toward the limit only
                entry = _unverified(entry, day_count(account, day, rule.code))
            times, flag = _timing(account, settings)
            on_account = {"checkin_times": times, **({"odometer": reading.item()} if reading else {})}
            staged = posting.stage([entry], on_account, flag=flag)
            person_cap = _person_cap(uow, account, rule, day)
            if person_cap:
                posting.guard(person_cap)
            if photo:
                at = clock.iso(clock.now())
                posting.guard(UploadUnused(photo.upload_id, at))
                posting.guard(PhotoHashUnused(photo.photo_hash, at))
            posting.commit(CheckinResult(staged.lines[0].receipt(), staged.points, staged.carbon_mg,
                                         verification(verdict) if verdict else None))
    return posting.result


def _timing(account, settings: risk.RiskSettings) -> tuple[list[float], Flag | None]:
    """Rule 2, machine timing (docs/risk.md): the account's latest check-in times with this one, kept on the account
    by this very write, and the flag that puts it under review when they are a machine's (this check-in is then
    held too). No read of its own: the times come with the posting's consistent read of the account."""
    times = risk.checkin_times_after(account, clock.now(), settings)
    if not risk.machine_timing(times, settings) or not risk.first_new(account, [risk.MACHINE_TIMING]):
        return times, None
    return times, Flag(risk.MACHINE_TIMING, risk.timing_reason(times))


def _person_cap(uow: PostingUnitOfWork, account, rule: Rule, day: date) -> PersonUnderDailyLimit | None:
    """The deployment's daily limit of the behaviour, counted for the person across platforms (the platform's
    own lower limit is the account's `daily`, checked above): a condition of the same transaction, no read."""
    limit = uow.catalog.behavior(rule.code).daily_limit
    if limit is None or not persons.shared(account):  # a person of one platform: the account's count suffices
        return None
    return PersonUnderDailyLimit(persons.person_of(account), day.isoformat(), rule.code, limit)


def quantity_of(rule: Rule, raw: object) -> Decimal:
    """A behaviour counted in events takes no quantity (or exactly 1); others require one."""
    if not rule.takes_quantity:
        if raw is not None and raw != 1:
            raise ValidationError("该行为按次计算，不需要数量", field="quantity")
        return Decimal(1)
    if raw is None:
        raise ValidationError(f"请填写数量（单位：{rule.unit}）", field="quantity")
    try:
        return parse_quantity(raw)
    except RuleError as exc:
        raise ValidationError("数量须为正数，最多 3 位小数", field="quantity", reason=str(exc)) from None


def evidence_of(rule: Rule, raw: object) -> dict:
    """The evidence the catalog demands (an odometer reading for green parking), validated."""
    if not rule.evidence:
        return {}
    if not isinstance(raw, dict):
        raise ValidationError("该行为需要提供凭证", field="evidence", required=list(rule.evidence))
    evidence = {}
    for name in rule.evidence:
        if name == "odometer_km":
            evidence[name] = str(_odometer(raw.get(name)))
        elif name == photo_rules.PHOTO:  # the photo of POST /v1/uploads, by its upload_id
            upload_id = raw.get("upload_id")
            if not isinstance(upload_id, str) or not 1 <= len(upload_id) <= 64:
                raise ValidationError("该行为需要上传照片凭证", field="evidence", reason="upload_id",
                                      rule="evidence.upload_id: the upload_id of POST /v1/uploads")
            evidence["upload_id"] = upload_id
        else:
            value = raw.get(name)
            if not isinstance(value, str) or not 1 <= len(value) <= 256:
                raise ValidationError("凭证不完整", field=f"evidence.{name}", reason="length", min_length=1,
                                      max_length=256, rule=f"evidence.{name}: a string of 1 to 256 characters")
            evidence[name] = value
    return evidence


def _odometer(raw: object) -> Decimal:
    try:
        value = parse_quantity(raw)
    except RuleError:
        raise ValidationError("里程表读数须为正数（公里）", field="evidence.odometer_km") from None
    if value > ODOMETER_MAX_KM:
        raise ValidationError("里程表读数不合理", field="evidence.odometer_km")
    return value


def _reading(evidence: dict, quantity: Decimal, day: date) -> odometer.Reading | None:
    """Today's odometer reading, for a behaviour whose evidence is one; such a check-in claims one day."""
    if odometer.EVIDENCE not in evidence:
        return None
    if quantity > odometer.MAX_DAYS:
        raise ValidationError("停驶按天打卡，每次最多 1 天", field="quantity")
    return odometer.Reading(Decimal(evidence[odometer.EVIDENCE]), day)


def verification(verdict: odometer.Verdict) -> Verification:
    """Whether the reading showed a parked day, and a message the mini program can show as it is."""
    km = plain(verdict.reading.km)
    previous = verdict.previous
    if previous is None:
        message = f"已记录首次里程表读数（{km} 公里），本次计入；之后每天读数不变即可继续获得积分"
    elif verdict.reason == "moved":
        message = (f"里程表比上次（{plain(previous.km)} 公里）多了 {plain(verdict.change_km)} 公里，车辆有行驶，"
                   "今天不计积分；本次读数已记为新的起点，明天读数不变即可获得积分")
    elif verdict.reason == "decreased":
        message = (f"里程表读数比上次（{plain(previous.km)} 公里）少了 {plain(-verdict.change_km)} 公里，请核对；"
                   "今天不计积分，本次读数已记为新的起点，明天读数不变即可获得积分")
    else:
        message = (f"里程表读数与上次（{plain(previous.km)} 公里）相差不超过 {plain(odometer.TOLERANCE_KM)} 公里，"
                   "停驶已确认")
    return Verification(verified=verdict.verified, reason=verdict.reason, odometer_km=float(verdict.reading.km),
                        previous_km=float(previous.km) if previous else None,
                        previous_day=previous.day.isoformat() if previous else None,
                        tolerance_km=float(odometer.TOLERANCE_KM), message=message)


def _parked(account, reading: odometer.Reading, rule: Rule) -> odometer.Verdict:
    try:
        return odometer.check_parked(odometer.Reading.from_item(account.odometer), reading)
    except odometer.SameDayError:  # one reading a day, whatever the catalog's cap says
        raise DailyLimitReachedError(cap="daily_limit", behavior=rule.code) from None


def _unverified(entry: Posting, before: DayCount) -> Posting:
    entry.points, entry.carbon_mg = 0, 0
    entry.inputs["counted_quantity"] = "0"
    entry.day_count = DayCount(before.events + 1, before.points, before.quantity_milli, before.carbon_mg)
    return entry
