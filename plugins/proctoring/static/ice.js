// The STUN/TURN servers for one new RTCPeerConnection. TURN credentials are short-lived and
// minted per request, so pages ask before every connection, reconnections included, and never
// keep a list. Without an answer (a network error, an older server) the list is empty: host
// candidates still connect on one machine or a LAN, and the offer that follows reports the
// real problem.

import { api } from "/static/accounts/api.js";

/** @returns {Promise<RTCIceServer[]>} */
export async function iceServers() {
  try {
    const answer = await api("/api/v1/rtc/ice-servers");
    return Array.isArray(answer?.ice_servers) ? answer.ice_servers : [];
  } catch {
    return [];
  }
}
