"""Sharing grades with other supervising departments (分类结果共享共用), under control.

The policy texts ask that the classification results reach the other supervising
departments (imported into their own double-random systems) while staying an internal
reference (docs/sources.md, "分类结果共享共用"). ``workbench share`` gives each department
only its domain's enterprises and only the columns the bureau's ``sharing.yaml`` allows:

- :mod:`.policy` — ``sharing.yaml``: departments, domains, the column whitelist;
- :mod:`.extract` — the extract: read a verified grade folder, select, write, sign, check;
- :mod:`.keys` — the bureau's Ed25519 key pair (receivers check with the public key);
- :mod:`.register` — the access register (访问登记), append-only and hash-chained.
"""

from workbench.sharing.extract import (
    ExtractVerification,
    build_extract,
    is_extract,
    policy,
    verify_extract,
)
from workbench.sharing.keys import SharingKeyError
from workbench.sharing.policy import Department, Domain, Policy, load_policy
from workbench.sharing.register import Register, read_register

__all__ = [
    "Department",
    "Domain",
    "ExtractVerification",
    "Policy",
    "Register",
    "SharingKeyError",
    "build_extract",
    "is_extract",
    "load_policy",
    "policy",
    "read_register",
    "verify_extract",
]
