"""What an offer must look like before aiortc sees it.

aiortc raises many exception types for odd SDP and answers some offers it cannot complete (no
DTLS fingerprint: the handshake fails later); checking up front turns all of that into one
stable error code per cause, never a 500.
"""

from __future__ import annotations

from aiortc.sdp import SessionDescription

from media.config import MediaConfig

KINDS = ("video", "audio")
RECEIVE_ONLY = ("recvonly", "inactive")


class SdpRejected(ValueError):
    """The offer cannot be answered; ``code`` is the stable error code for the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def check_offer(sdp: str, config: MediaConfig, *, receive_only: bool = False) -> None:
    """Refuse an offer before aiortc sees it: size, parseability, media sections.

    ``receive_only`` (a proctor watching): nothing may come from the offerer, since nobody
    would read it and aiortc would queue its decoded frames without bound.
    """
    if len(sdp.encode()) > config.max_sdp_bytes:
        raise SdpRejected("sdp_too_large", f"the offer exceeds {config.max_sdp_bytes} bytes")
    try:
        parsed = SessionDescription.parse(sdp)
    except Exception as exc:  # the parser raises ValueError, IndexError, KeyError, ...
        raise SdpRejected("invalid_sdp", f"the offer is not valid SDP: {exc}") from exc
    if not parsed.media:
        raise SdpRejected("invalid_sdp", "the offer has no media sections")
    for media in parsed.media:
        if media.dtls is None or not media.dtls.fingerprints:
            # aiortc would answer and then fail the DTLS handshake; refuse it up front.
            raise SdpRejected("invalid_sdp", f"the {media.kind} section has no DTLS fingerprint")
        if receive_only and (media.kind not in KINDS or media.direction not in RECEIVE_ONLY):
            raise SdpRejected("invalid_sdp", "a watch offer may only receive audio and video")
    tracks = [m for m in parsed.media if m.kind in ("audio", "video")]
    if len(tracks) > config.max_tracks_per_peer:
        raise SdpRejected(
            "too_many_tracks", f"at most {config.max_tracks_per_peer} tracks per connection"
        )
