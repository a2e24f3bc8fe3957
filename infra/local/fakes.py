"""All the fake partners `make run` needs, started together: WeChat, the bus company and the bank, and the
S3-compatible server of the evidence photos (infra/local/fake_s3.py, the stack's key pair `local`/`local`).

In-process (what infra.local.stack does):
    fakes = start_fakes(wechat_port=8010, appid="wx-local-demo", secret="...")
    env.update(fakes.env())   # WECHAT_API_BASE=...
    ...
    fakes.stop()

CLI: `WECHAT_APPID=... WECHAT_SECRET=... python -m infra.local.fakes --wechat-port 8010` blocks until Ctrl-C
or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from infra.local.fake_bank import FakeBank
from infra.local.fake_open_partner import FakeOpenPartner
from infra.local.fake_s3 import FakeS3
from infra.local.fake_transit import FakeTransit
from infra.local.fake_wechat import FakeWeChat
from infra.local.shutdown import block_until_interrupted

# The demo catalog's open-protocol partners, all played by one fake with one secret; `bikeshare` first (the id the
# fake signs as unless told otherwise).
OPEN_PARTNER_IDS = ("bikeshare", "evcharge", "powergrid", "resale")
S3_ACCESS_KEY, S3_SECRET_KEY = "local", "local"  # the AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY of the stack


@dataclass
class LocalFakes:
    """The running fakes, and the settings that point the app at them."""

    wechat: FakeWeChat
    transit: FakeTransit | None = None
    bank: FakeBank | None = None
    open_partner: FakeOpenPartner | None = None
    s3: FakeS3 | None = None

    def env(self) -> dict[str, str]:
        """The environment variables that point the app at these fakes."""
        env = {"WECHAT_API_BASE": self.wechat.base_url}
        if self.s3:
            env["AWS_ENDPOINT_URL_S3"] = self.s3.base_url  # boto3 reads it (chalicelib/store/evidence_objects.py)
        if self.transit:
            env.update(TRANSIT_API_BASE=self.transit.base_url, TRANSIT_APP_ID=self.transit.app_id,
                       TRANSIT_SECRET=self.transit.secret)
        if self.bank:
            env.update(BANK_API_BASE=self.bank.base_url, BANK_CLIENT_ID=self.bank.client_id,
                       BANK_CLIENT_SECRET=self.bank.client_secret, BANK_WEBHOOK_SECRET=self.bank.webhook_secret)
        if self.open_partner:
            env.update({"PARTNER_SECRET__" + pid.upper().replace("-", "_"): self.open_partner.secret
                        for pid in self.open_partner.ids})
            env["GREENSPROUT_FAKE_OPEN_PARTNER_URL"] = self.open_partner.base_url  # the console's demo bikes
        return env

    def open_partners_catalog(self, demo_catalog: dict) -> dict:
        """A catalog file of the demo catalog's open-protocol partners that this fake plays, each with the fake's
        `revoke_url` (its port is only known once it runs): loaded after `seed-demo`."""
        played = self.open_partner.ids if self.open_partner else ()
        return {"partners": [{**entry, "revoke_url": self.open_partner.revoke_url}
                             for entry in demo_catalog.get("partners", []) if entry["id"] in played]}

    def describe(self) -> str:
        """One line per fake, for the terminal."""
        lines = [f"fake WeChat API  {self.wechat.base_url}  (control API under /__fake__/)"]
        if self.transit:
            lines.append(f"fake bus company {self.transit.base_url}  (/__fake__/riders, rides, push)")
        if self.bank:
            lines.append(f"fake bank        {self.bank.base_url}  (/__fake__/customers, events, push)")
        if self.open_partner:
            lines.append(f"fake open-protocol partner {', '.join(self.open_partner.ids)} {self.open_partner.base_url}"
                         "  (/__fake__/link, push, revocations)")
        if self.s3:
            lines.append(f"fake S3          {self.s3.base_url}  (evidence photos; path-style, key pair local/local)")
        return "\n".join(lines)

    def stop(self) -> None:
        """Stop every fake."""
        for fake in (self.s3, self.open_partner, self.bank, self.transit, self.wechat):
            if fake is not None:
                fake.stop()


def start_fakes(wechat_port: int, appid: str, secret: str, partners: dict[str, str] | None = None,
                transit_port: int = 0, bank_port: int = 0, apps: dict[str, str] | None = None,
                open_port: int = 0, s3_port: int = 0) -> LocalFakes:
    """Start every fake partner on 127.0.0.1 (port 0: any free port). `partners` holds TRANSIT_APP_ID,
    TRANSIT_SECRET, BANK_CLIENT_ID, BANK_CLIENT_SECRET and BANK_WEBHOOK_SECRET, and OPEN_PARTNER_SECRET for the
    fake open-protocol partner (playing the demo catalog's OPEN_PARTNER_IDS); without them only WeChat runs.
    `apps`: the other platforms' mini programs (appid -> secret) the fake WeChat serves too. The fake S3 always
    runs (`s3_port`, 0: any free port), for the key pair the stack gives the app (AWS_ACCESS_KEY_ID `local`)."""
    fakes = LocalFakes(wechat=FakeWeChat(appid, secret, port=wechat_port, apps=apps).start(),
                       s3=FakeS3(S3_ACCESS_KEY, S3_SECRET_KEY, port=s3_port).start())
    if partners:
        fakes.transit = FakeTransit(partners["TRANSIT_APP_ID"], partners["TRANSIT_SECRET"], port=transit_port).start()
        fakes.bank = FakeBank(partners["BANK_CLIENT_ID"], partners["BANK_CLIENT_SECRET"],
                              partners["BANK_WEBHOOK_SECRET"], port=bank_port).start()
    if partners and partners.get("OPEN_PARTNER_SECRET"):
        fakes.open_partner = FakeOpenPartner(partners["OPEN_PARTNER_SECRET"], OPEN_PARTNER_IDS, port=open_port).start()
    return fakes


def main(argv: list[str] | None = None) -> int:
    """Run the fakes in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="Run the fake partners (WeChat, bus company, bank) on 127.0.0.1.")
    parser.add_argument("--wechat-port", type=int, default=8010)
    parser.add_argument("--transit-port", type=int, default=8020)
    parser.add_argument("--bank-port", type=int, default=8030)
    args = parser.parse_args(argv)
    missing = [name for name in ("WECHAT_APPID", "WECHAT_SECRET") if not os.environ.get(name)]
    if missing:
        parser.error(f"set {' and '.join(missing)} in the environment")
    names = ("TRANSIT_APP_ID", "TRANSIT_SECRET", "BANK_CLIENT_ID", "BANK_CLIENT_SECRET", "BANK_WEBHOOK_SECRET")
    partners = {name: os.environ[name] for name in names} if all(os.environ.get(n) for n in names) else None
    fakes = start_fakes(args.wechat_port, os.environ["WECHAT_APPID"], os.environ["WECHAT_SECRET"], partners,
                        args.transit_port, args.bank_port)
    try:
        print(f"{fakes.describe()}\nCtrl-C to stop", flush=True)
        block_until_interrupted()
    finally:
        fakes.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
