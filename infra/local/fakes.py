"""All the fake partners `make run` needs, started together: today the fake WeChat API; the fake bus company
and bank join here.

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

from infra.local.fake_wechat import FakeWeChat
from infra.local.shutdown import block_until_interrupted


@dataclass
class LocalFakes:
    """The running fakes, and the settings that point the app at them."""

    wechat: FakeWeChat

    def env(self) -> dict[str, str]:
        """The environment variables that point the app at these fakes."""
        return {"WECHAT_API_BASE": self.wechat.base_url}

    def describe(self) -> str:
        """One line per fake, for the terminal."""
        return f"fake WeChat API  {self.wechat.base_url}  (control API under /__fake__/)"

    def stop(self) -> None:
        """Stop every fake."""
        self.wechat.stop()


def start_fakes(wechat_port: int, appid: str, secret: str) -> LocalFakes:
    """Start every fake partner on 127.0.0.1 (port 0: any free port)."""
    return LocalFakes(wechat=FakeWeChat(appid, secret, port=wechat_port).start())


def main(argv: list[str] | None = None) -> int:
    """Run the fakes in the foreground until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="Run the fake partners (WeChat) on 127.0.0.1.")
    parser.add_argument("--wechat-port", type=int, default=8010)
    args = parser.parse_args(argv)
    missing = [name for name in ("WECHAT_APPID", "WECHAT_SECRET") if not os.environ.get(name)]
    if missing:
        parser.error(f"set {' and '.join(missing)} in the environment")
    fakes = start_fakes(args.wechat_port, os.environ["WECHAT_APPID"], os.environ["WECHAT_SECRET"])
    try:
        print(f"{fakes.describe()}\nCtrl-C to stop", flush=True)
        block_until_interrupted()
    finally:
        fakes.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
