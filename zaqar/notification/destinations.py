"""``[notification] allowed_destinations``: where webhooks may be sent (an SSRF guard).

Checked on the URL alone, before anything is looked up or connected to: a host name
must be listed (exactly, or under a listed ``*.domain``) and is only then resolved, by
the HTTP client; an IP address written in the URL must fall in a listed network. So a
subscriber can never make the service resolve a name the operator did not list, nor
reach an address outside the listed networks by writing it in the URL.
"""
import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class DestinationPolicy:
    """Raises ValueError from the constructor for an entry that is neither a host name,
    a ``*.domain``, an address or network, nor ``*``."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.anywhere = False
        self._names: set[str] = set()
        self._domains: list[str] = []  # ".example.com" for "*.example.com"
        self._networks: list[Network] = []
        for entry in (item.strip().lower() for item in entries):
            if not entry:
                continue
            name = entry.rstrip(".")
            if entry == "*":
                self.anywhere = True
            elif entry.startswith("*.") and _is_host_name(name[2:]):
                self._domains.append(name[1:])
            elif _is_network(entry):
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            elif _is_host_name(name):
                self._names.add(name)
            else:
                raise ValueError(f"[notification] allowed_destinations: {entry!r} is "
                                 "neither a host name, *.domain, IP network nor *.")

    def refusal(self, url: str) -> str | None:
        """Why ``url`` may not be delivered to, or None when it may."""
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if not host:
            return f"The subscriber {url!r} names no host."
        host = host.rstrip(".")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if self.anywhere:
            return None
        if address is not None:
            if any(address in network for network in self._networks):
                return None
            return (f"The address {host} is not in [notification] allowed_destinations; "
                    "nothing was sent.")
        if host in self._names or any(host.endswith(domain) for domain in self._domains):
            return None
        return (f"The host {host!r} is not in [notification] allowed_destinations; "
                "nothing was sent (nor the name looked up).")


def _is_network(entry: str) -> bool:
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True


def _is_host_name(entry: str) -> bool:
    labels = entry.split(".") if entry else [""]
    return all(label and len(label) <= 63 and label.replace("-", "").isalnum()
               and label.isascii() for label in labels)
