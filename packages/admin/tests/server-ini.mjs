// Writes the ini of the live server the browser tests drive (our `kinto start`, with the admin,
// accounts, history and search plugins, on the memory backends and the embedded search index) in a temporary folder, and prints its path.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const port = process.env.KINTO_ADMIN_TEST_PORT ?? "18923";
const folder = mkdtempSync(join(tmpdir(), "kinto-admin-tests-"));
const ini = join(folder, "kinto.ini");
writeFileSync(
  ini,
  `[app:main]
kinto.storage_backend = kinto.core.storage.memory
kinto.permission_backend = kinto.core.permission.memory
kinto.cache_backend = kinto.core.cache.memory
kinto.userid_hmac_secret = admin-browser-tests
kinto.includes = kinto.plugins.admin
                 kinto.plugins.accounts
                 kinto.plugins.history
                 kinto_elasticsearch
kinto.indexing_backend = kinto_elasticsearch.embedded
multiauth.policies = account
multiauth.policy.account.use = kinto.plugins.accounts.AccountsPolicy
kinto.account_create_principals = system.Everyone
kinto.account_write_principals = account:admin
kinto.account_reserve_admin_names = true
kinto.bucket_create_principals = system.Authenticated
kinto.experimental_permissions_endpoint = true
kinto.experimental_collection_schema_validation = true

[server:main]
host = 127.0.0.1
port = ${port}

# Warnings and errors only: the request log of every test would hide them.
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
`,
);

process.stdout.write(ini);
