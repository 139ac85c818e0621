"""Sharing under need-to-know: units, accounts and roles (``accounts``), who may see which
record (``access``: distribution levels in the manner of MISP, decided in one place), and the
consultation log every view, search and export of personal data writes (``audit``:
Directive (EU) 2016/680, art. 25; hash-chained so that tampering shows)."""
