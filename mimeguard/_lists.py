"""Header and extension lists from the RFCs and AWS documentation (REFERENCE.md section 2)."""

from __future__ import annotations

__all__ = [
    "IMMUTABLE_HEADERS",
    "MIME_UNIQUE_HEADERS",
    "SES_BLOCKED_EXTENSIONS",
    "SES_UNIQUE_HEADERS",
    "SINGLETON_HEADERS",
]

#: RFC 5322 section 3.6: fields that may occur at most once.
SINGLETON_HEADERS = frozenset(
    {
        "from",
        "sender",
        "reply-to",
        "to",
        "cc",
        "bcc",
        "message-id",
        "in-reply-to",
        "references",
        "subject",
        "date",
    }
)

#: RFC 2045/2183 fields that make no sense twice in one part (a second Content-Type
#: is read differently by different clients).
MIME_UNIQUE_HEADERS = frozenset(
    {
        "content-type",
        "content-transfer-encoding",
        "content-disposition",
        "content-id",
        "mime-version",
    }
)

#: Amazon SES's once-only headers (SES developer guide; inferred for WorkMail).
SES_UNIQUE_HEADERS = frozenset(
    h.lower()
    for h in [
        "Accept-Language",
        "Archived-At",
        "Auto-Submitted",
        "Bounces-to",
        "Comments",
        "Content-Alternative",
        "Content-Base",
        "Content-Class",
        "Content-Description",
        "Content-Disposition",
        "Content-Duration",
        "Content-ID",
        "Content-Language",
        "Content-Length",
        "Content-Location",
        "Content-MD5",
        "Content-Transfer-Encoding",
        "Content-Type",
        "Delivered-To",
        "Disposition-Notification-Options",
        "Disposition-Notification-To",
        "DKIM-Signature",
        "DomainKey-Signature",
        "Errors-To",
        "Importance",
        "Keywords",
        "List-Archive",
        "List-Help",
        "List-Id",
        "List-Owner",
        "List-Post",
        "List-Subscribe",
        "List-Unsubscribe",
        "Message-Context",
        "MIME-Version",
        "Organization",
        "Original-From",
        "Original-Message-ID",
        "Original-Recipient",
        "Original-Subject",
        "Precedence",
        "Priority",
        "Return-Path",
        "Return-Receipt-To",
        "Solicitation",
        "Sensitivity",
        "Thread-Index",
        "Thread-Topic",
        "User-Agent",
        "VBR-Info",
    ]
)

#: Headers WorkMail will not let a Lambda change (the list is not published;
#: REFERENCE.md 2.6 infers it).  Compared byte for byte, line endings aside.
IMMUTABLE_HEADERS = (
    "received",
    "dkim-signature",
    "arc-seal",
    "arc-message-signature",
    "arc-authentication-results",
    "message-id",
    "from",
    "to",
    "cc",
    "date",
    "return-path",
    "sender",
    "reply-to",
    "in-reply-to",
    "references",
)

#: Attachment extensions Amazon SES refuses (SES developer guide), without the dot.
SES_BLOCKED_EXTENSIONS = frozenset(
    [
        "ade",
        "adp",
        "app",
        "asp",
        "bas",
        "bat",
        "cer",
        "chm",
        "cmd",
        "com",
        "cpl",
        "crt",
        "csh",
        "der",
        "exe",
        "fxp",
        "gadget",
        "hlp",
        "hta",
        "inf",
        "ins",
        "isp",
        "its",
        "js",
        "jse",
        "ksh",
        "lib",
        "lnk",
        "mad",
        "maf",
        "mag",
        "mam",
        "maq",
        "mar",
        "mas",
        "mat",
        "mau",
        "mav",
        "maw",
        "mda",
        "mdb",
        "mde",
        "mdt",
        "mdw",
        "mdz",
        "msc",
        "msh",
        "msh1",
        "msh2",
        "mshxml",
        "msh1xml",
        "msh2xml",
        "msi",
        "msp",
        "mst",
        "ops",
        "pcd",
        "pif",
        "plg",
        "prf",
        "prg",
        "reg",
        "scf",
        "scr",
        "sct",
        "shb",
        "shs",
        "sys",
        "ps1",
        "ps1xml",
        "ps2",
        "ps2xml",
        "psc1",
        "psc2",
        "tmp",
        "url",
        "vb",
        "vbe",
        "vbs",
        "vps",
        "vsmacros",
        "vss",
        "vst",
        "vsw",
        "vxd",
        "ws",
        "wsc",
        "wsf",
        "wsh",
        "xnk",
    ]
)


def file_extensions(filename: str) -> list[str]:
    """Every extension a client could act on, lower-case: ``invoice.pdf.exe. `` gives
    ``["pdf", "exe"]`` (trailing dots and spaces are stripped, as Windows does)."""
    name = filename.strip().rstrip(". ").lower()
    # Windows also ignores trailing dots/spaces of each component; a path prefix is not a name.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    pieces = name.split(".")
    return [p.strip() for p in pieces[1:] if p.strip()]
