"""The posting unit of work over DynamoDB: the staged posting, its guards and the idempotency record as one
TransactWriteItems (store/tx.py), in the repositories' words (store/repositories.py)."""
from __future__ import annotations

from typing import Any

from ..domain import persons
from ..domain.guards import ClaimUnderLimit, Guard, PersonUnderDailyLimit, RedemptionIssued, StockAvailable
from ..domain.guards_evidence import PhotoHashUnused, UploadUnused
from ..domain.guards_market import RedemptionSettled
from ..domain.review import StaffCreditListed, StaffCreditsSettled, StaffStanding
from . import repositories, repositories_market, review_queue
from .photo_hashes import PhotoHashes
from .tx import Tx
from .unit_of_work import IDEMPOTENCY, PostingUnitOfWork


class DynamoPostingUnitOfWork(PostingUnitOfWork):
    ACCESS = (
        repositories.Accounts,
        repositories.Ledger,
        repositories.Idempotency,
        repositories.StockLeft,
        repositories.Claims,
        repositories.PersonDays,
        repositories.Redemptions,
        repositories_market.stage_settle,
        review_queue.stage,
        review_queue.stage_staff,
    )  # + store/photo_hashes.PhotoHashes, staged by photo check-ins only: named by the API (bootstrap.API_TOUCHES)

    def __init__(self, catalog: Any = None) -> None:
        self.catalog = catalog
        self.accounts = repositories.Accounts()
        self.ledger = repositories.Ledger()
        self.idempotency = repositories.Idempotency()
        self.stock = repositories.StockLeft()
        self.claims = repositories.Claims()
        self.redemptions = repositories.Redemptions()
        self.person_days = repositories.PersonDays()
        self.photos = PhotoHashes()

    def _write(self, result: Any) -> None:
        account, staged = self.account, self.staged
        tx = Tx()
        if self.key:
            self.idempotency.stage(tx, IDEMPOTENCY, self.key, result)
        peers = persons.peers_of(account)
        carbon = int(staged.account.get("carbon_mg", account.carbon_mg)) - int(account.carbon_mg) if peers else 0
        self.accounts.stage_posting(tx, "account", account.user_id, staged.account, int(account.version), carbon,
                                    staged.remove)
        for platform, peer in sorted(peers.items()) if carbon else ():  # the person's carbon, on each of theirs
            self.accounts.stage_peer_carbon(tx, f"peer:{platform}", peer, carbon)
        self.ledger.stage(tx, account.user_id, staged)
        if staged.queue:  # put under review, or cleared: the review queue's item (store/review_queue.py)
            review_queue.stage(tx, staged.queue, account.user_id, staged.account.get("review_since"))
        for label, guard in self.labelled_guards():
            self._stage_guard(tx, label, guard)
        tx.commit()

    def _stage_guard(self, tx: Tx, label: str, guard: Guard) -> None:
        if isinstance(guard, StockAvailable):
            self.stock.stage_take(tx, label, guard.stock_key)
        elif isinstance(guard, ClaimUnderLimit):
            self.claims.stage_claim(tx, label, guard.user_id, guard.goods_id, guard.limit)
        elif isinstance(guard, RedemptionIssued):
            self.redemptions.stage_new(tx, label, guard.redemption, guard.joined_at)
        elif isinstance(guard, PersonUnderDailyLimit):
            self.person_days.stage_count(tx, label, guard.person_id, guard.day, guard.behavior, guard.limit)
        elif isinstance(guard, RedemptionSettled):
            repositories_market.stage_settle(tx, label, guard)
        elif isinstance(guard, (StaffStanding, StaffCreditListed, StaffCreditsSettled)):
            review_queue.stage_staff(tx, label, guard)
        elif isinstance(guard, UploadUnused):
            self.photos.stage_upload(tx, label, guard.upload_id, guard.at)
        elif isinstance(guard, PhotoHashUnused):
            self.photos.stage_hash(tx, label, guard.photo_hash, guard.at)
        else:
            raise TypeError(f"no DynamoDB action for {type(guard).__name__}")
