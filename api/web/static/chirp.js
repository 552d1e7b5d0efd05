// Chirp's web client: the compose counter (counting as the server does: NFC code points) and
// the live home timeline (EventSource on /v1/streams/home with the session cookie; each new
// entry is fetched as server-rendered HTML, so there is one template for a post; a
// notification refreshes the unread count).
"use strict";

function countChars(text) {
  return Array.from(text.normalize("NFC")).length;
}

function wireCounter(form) {
  const area = form.querySelector("textarea[data-max]");
  const counter = form.querySelector("[data-counter]");
  if (!area || !counter) return;
  const max = Number(area.dataset.max);
  const button = form.querySelector("button[type=submit]");
  const update = () => {
    const left = max - countChars(area.value);
    counter.textContent = left >= 0 ? `${left} characters left` : `${-left} characters too many`;
    counter.classList.toggle("over", left < 0);
    area.setAttribute("aria-invalid", String(left < 0));
    if (button) button.disabled = left < 0;
  };
  area.addEventListener("input", update);
  update();
}

function removePost(tweetId) {
  document.querySelectorAll(`[data-tweet-id="${tweetId}"], [data-post-id="${tweetId}"]`)
    .forEach((item) => item.remove());
}

function wireLive(timeline) {
  if (!window.EventSource) return;
  const status = document.getElementById("live-status");
  const say = (text) => { if (status) status.textContent = text; };
  const source = new EventSource(timeline.dataset.live);
  source.addEventListener("ready", () => {
    timeline.dataset.liveReady = "true";
    say("Live: new posts appear at the top.");
  });
  source.addEventListener("entry", async (event) => {
    const entry = JSON.parse(event.data);
    if (document.getElementById(`tweet-${entry.id}`)) return;
    const answer = await fetch(`/tweets/${encodeURIComponent(entry.id)}/card`, {
      headers: { "HX-Request": "true" },
      credentials: "same-origin",
    });
    if (!answer.ok) return;
    const holder = document.createElement("ol");
    holder.innerHTML = await answer.text();
    const item = holder.querySelector("li.tweet");
    if (!item || document.getElementById(item.id)) return;
    item.classList.add("new");
    timeline.prepend(item);
    if (window.htmx) window.htmx.process(item);
    const empty = document.getElementById("empty");
    if (empty) empty.remove();
  });
  const takeAway = (event) => {
    const gone = JSON.parse(event.data);
    if (event.type === "delete") removePost(gone.tweet_id);
    else document.querySelectorAll(
      `[data-post-id="${gone.tweet_id}"][data-retweeter="${gone.user_id}"]`,
    ).forEach((item) => item.remove());
  };
  source.addEventListener("delete", takeAway);
  source.addEventListener("unretweet", takeAway);
  // Something to be notified of: the navigation's unread count is fetched again.
  source.addEventListener("notification", async () => {
    const badge = document.getElementById("unread");
    if (!badge) return;
    const answer = await fetch("/notifications/unread", { credentials: "same-origin" });
    if (answer.ok) badge.innerHTML = await answer.text();
  });
  source.addEventListener("reset", () => window.location.reload());
  source.onerror = () => say("Reconnecting to live updates…");
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-compose]").forEach(wireCounter);
  const timeline = document.querySelector("[data-live]");
  if (timeline) wireLive(timeline);
});
