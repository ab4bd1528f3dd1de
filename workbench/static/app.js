// docval workbench: passkey ceremonies, the guarded fetch, and keyboard navigation. Plain JS, no build step.
"use strict";

const b64uToBuf = s => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)), c => c.charCodeAt(0)).buffer;
const bufToB64u = b => btoa(String.fromCharCode(...new Uint8Array(b))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

// Every POST carries the page's CSRF token; the server also checks the Origin header.
async function post(url, body) {
  const response = await fetch(url, {
    method: "POST", credentials: "same-origin", redirect: "follow",
    headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrf()},
    body: JSON.stringify(body || {}),
  });
  const data = response.headers.get("content-type")?.includes("json") ? await response.json() : {};
  if (!response.ok) throw new Error(data.error || data.detail || `refused (${response.status})`);
  return data;
}

function say(text) { document.getElementById("status").textContent = text; }

function encodeCredential(cred) {
  const r = cred.response, out = {};
  for (const k of ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]) {
    if (r[k]) out[k] = bufToB64u(r[k]);
  }
  return {id: cred.id, rawId: bufToB64u(cred.rawId), type: cred.type, response: out,
          clientExtensionResults: cred.getClientExtensionResults()};
}

async function assertion(options) {
  const o = options;
  o.challenge = b64uToBuf(o.challenge);
  o.allowCredentials = (o.allowCredentials || []).map(c => ({...c, id: b64uToBuf(c.id)}));
  return encodeCredential(await navigator.credentials.get({publicKey: o}));
}

async function signin() {
  const {handle, options} = await post("/signin/options");
  const credential = await assertion(options);
  const result = await post("/signin/verify", {handle, credential});
  window.location.assign(result.redirect);
  return result;
}

async function enrol(token) {
  const {handle, options} = await post(`/enrol/${token}/options`);
  options.challenge = b64uToBuf(options.challenge);
  options.user.id = b64uToBuf(options.user.id);
  options.excludeCredentials = (options.excludeCredentials || []).map(c => ({...c, id: b64uToBuf(c.id)}));
  const credential = encodeCredential(await navigator.credentials.create({publicKey: options}));
  const result = await post(`/enrol/${token}/verify`, {handle, credential});
  document.getElementById("fingerprint").textContent = result.fingerprint;
  document.getElementById("fingerprint-box").hidden = false;
  return result;
}

// A decision: the server builds the statement, the passkey signs SHA-256 of it, the server records it.
async function decide(doc, decision, reason) {
  const {handle, options, statement} = await post(`/doc/${doc}/decide/options`, {decision, reason});
  say(`Your passkey signs: ${statement}`);
  const credential = await assertion(options);
  return await post(`/doc/${doc}/decide/verify`, {handle, credential});
}

// A correction is signed like a decision: the passkey signs SHA-256 of the correction statement.
async function correct(doc, field, value) {
  const {handle, options, statement} = await post(`/doc/${doc}/correct/options`, {field, value});
  say(`Your passkey signs: ${statement}`);
  const credential = await assertion(options);
  return await post(`/doc/${doc}/correct/verify`, {handle, credential});
}

function showRefusal(error) {
  const box = document.getElementById("refusal") || document.getElementById("status");
  box.textContent = error.message;
}

// The mark is a rectangle around the value where the server found it printed, else the whole page.
function markField(row) {
  document.querySelectorAll(".page .mark").forEach(m => { m.hidden = true; });
  const page = row.dataset.page && document.getElementById(`page-${row.dataset.page}`);
  if (!page) { say("The position of this value on the page is not known."); return; }
  const mark = page.querySelector(".mark");
  const box = row.dataset.box ? row.dataset.box.split(",") : null;
  const [left, top, width, height] = box ? box.map(v => `${v}%`) : ["0", "0", "100%", "100%"];
  Object.assign(mark.style, {left, top, width, height});
  mark.classList.toggle("spot", Boolean(box));
  mark.hidden = false;
  (box ? mark : page).scrollIntoView({block: "nearest"});
  say(box ? `Read on page ${row.dataset.page}, marked.` : `Read on page ${row.dataset.page}; where on it is not known.`);
}

// Roles without originals get each page's text as the PII masker leaves it; textContent, never HTML.
async function showMaskedText(box) {
  const response = await fetch(`/doc/${box.dataset.doc}/text`, {credentials: "same-origin", headers: {"Accept": "application/json"}});
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `refused (${response.status})`);
  box.replaceChildren(...data.pages.flatMap((text, i) => {
    const heading = document.createElement("h3"), pre = document.createElement("pre");
    heading.textContent = `Page ${i + 1} (masked text)`;
    pre.className = "masked-text";
    pre.textContent = text || "This page has no text layer (a scan); only the masked fields are shown.";
    return [heading, pre];
  }));
}

function keyboard(event) {
  if (event.target.closest("textarea, input")) return;
  const rows = [...document.querySelectorAll("tr.row, tr.field")];
  const at = rows.indexOf(document.activeElement);
  if (event.key === "j" || event.key === "k") {
    const next = rows[Math.min(rows.length - 1, Math.max(0, at + (event.key === "j" ? 1 : -1)))];
    if (next) { next.tabIndex = 0; next.focus(); if (next.classList.contains("field")) markField(next); }
  } else if (event.key === "Enter" && at >= 0 && rows[at].dataset.href) {
    window.location.assign(rows[at].dataset.href);
  } else if (event.key === "n" && document.getElementById("next")) {
    window.location.assign(document.getElementById("next").href);
  } else if (event.key === "a" || event.key === "r") {
    const button = document.querySelector(`button[data-decision="${event.key === "a" ? "approve" : "reject"}"]`);
    if (button) { event.preventDefault(); document.getElementById("reason").focus(); }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.addEventListener("keydown", keyboard);
  document.getElementById("signin")?.addEventListener("click", () => signin().catch(showRefusal));
  const enrolButton = document.getElementById("enrol");
  enrolButton?.addEventListener("click", () => enrol(enrolButton.dataset.token).catch(showRefusal));
  document.getElementById("signout")?.addEventListener("click", async () => {
    await fetch("/signout", {method: "POST", credentials: "same-origin", headers: {"X-CSRF-Token": csrf()}});
    window.location.assign("/signin");
  });
  document.querySelectorAll("tr.field").forEach(row => {
    row.addEventListener("click", () => markField(row));
    row.addEventListener("focus", () => markField(row));
  });
  const pageText = document.getElementById("page-text");
  if (pageText) showMaskedText(pageText).catch(error => { pageText.textContent = error.message; });
  const correctButton = document.getElementById("correct");
  correctButton?.addEventListener("click", () => {
    correct(correctButton.dataset.doc, document.getElementById("correct-field").value, document.getElementById("correct-value").value)
      .then(result => { say(result.message); window.location.reload(); })
      .catch(showRefusal);
  });
  document.querySelectorAll("button[data-decision]").forEach(button => button.addEventListener("click", () => {
    decide(button.dataset.doc, button.dataset.decision, document.getElementById("reason").value)
      .then(result => { say(result.message); window.location.reload(); })
      .catch(showRefusal);
  }));
});
