"""A second live server for the OpenID test: an OpenID Connect provider stand-in, and our ``kinto start``
with the admin and an OpenID policy on that provider (and accounts beside it).

Run by Playwright (playwright.config.ts) as ``python tests/openid_server.py PORT``; the provider approves
the user ``carol`` at once. SIGTERM stops both.
"""

from __future__ import annotations

import pathlib
import signal
import subprocess
import sys
import tempfile

from kinto.plugins.openid.testing import OIDCStandIn

INI = """[app:main]
kinto.storage_backend = kinto.core.storage.memory
kinto.permission_backend = kinto.core.permission.memory
kinto.cache_backend = kinto.core.cache.memory
kinto.userid_hmac_secret = admin-browser-tests
kinto.includes = kinto.plugins.admin
                 kinto.plugins.accounts
                 kinto.plugins.openid
multiauth.policies = account provider
multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
multiauth.policy.provider.use = kinto.plugins.openid.OpenIDConnectPolicy
multiauth.policy.provider.issuer = {issuer}
multiauth.policy.provider.client_id = kinto
multiauth.policy.provider.client_secret = secret
kinto.bucket_create_principals = system.Authenticated
kinto.account_reserve_admin_names = true

[server:main]
host = 127.0.0.1
port = {port}

[loggers]
keys = root

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)s %(name)s %(message)s
"""


def main(port: str) -> int:
    with OIDCStandIn() as provider, tempfile.TemporaryDirectory(prefix="kinto-admin-openid-") as folder:
        provider.register_client("kinto", "secret")
        provider.add_user("carol", email="carol@example.com")
        ini = pathlib.Path(folder) / "kinto.ini"
        ini.write_text(INI.format(issuer=provider.issuer, port=port))
        server = subprocess.Popen(["kinto", "start", "--ini", str(ini)])
        signal.signal(signal.SIGTERM, lambda *_: server.terminate())
        return server.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
