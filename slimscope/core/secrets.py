"""Which paths look like secrets: keys, credential files, env files, git metadata."""

from __future__ import annotations

import re

from slimscope.globs import compile_glob, compiled, matcher

# In slimscope.globs' dialect: a glob without a `/` is a file name at any depth.
_NAMES = [
    "id_rsa", "id_rsa.*", "id_dsa", "id_dsa.*", "id_ecdsa", "id_ecdsa.*", "id_ed25519",
    "id_ed25519.*", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.ppk",
    ".env", ".env.*", "*.env", ".npmrc", ".pypirc", ".netrc", "_netrc", ".git-credentials",
    ".pgpass", ".htpasswd", "credentials.json", "service-account*.json", "secrets.y*ml",
    "*.tfvars", "kubeconfig",
]
_PATHS = [
    ".aws/credentials", ".aws/config", ".docker/config.json", ".kube/config",
    ".ssh/**/*", ".gnupg/**/*", ".config/gcloud/**/*", ".azure/**/*", ".git/**",
    "/etc/ssl/private/**/*", ".vault-token",
]
_NOT_SECRET = [".ssh/known_hosts", ".ssh/**/*.pub", ".ssh/config", "*.pub", "/etc/ssl/certs/**",
               "/usr/share/ca-certificates/**", "/usr/lib/ssl/certs/**",
               "site-packages/**/cacert.pem", "certifi/cacert.pem"]

_name = matcher(_NAMES)
_path = matcher(_PATHS)
_not = matcher(_NOT_SECRET)
# _path tries a dozen any-depth globs; one search for the literal stretch each of
# them needs rules out most paths first, for a fraction of the cost.
_PATH_NEEDLES = "|".join(re.escape(compile_glob(p).longest) for p in _PATHS)


def _path_may_match(path: str) -> bool:
    return compiled(_PATH_NEEDLES).search(path) is not None


def looks_secret(path: str) -> bool:
    # Most paths match no secret pattern: the exceptions are only worth trying after one did.
    if not (_name(path) or (_path_may_match(path) and _path(path))):
        return False
    return not _not(path)
