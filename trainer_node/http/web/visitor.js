// Visitor page: the share button uses the phone's share sheet where there
// is one, else copies the link. The consent section shows whether the
// visitor agreed that the booth may keep their pictures and poses to
// improve itself, and lets them withdraw it (POST /c/TOKEN/consent; the
// link's token is their only key).
'use strict';

function setUpShare() {
  const button = document.getElementById('share');
  if (!button) return;
  const msg = document.getElementById('share-msg');
  const url = button.dataset.url;
  button.addEventListener('click', async () => {
    try {
      if (navigator.share) {
        await navigator.share({ title: 'My dance', url });
      } else {
        await navigator.clipboard.writeText(url);
        msg.textContent = 'Link copied.';
      }
    } catch (e) {
      msg.textContent = url;
    }
  });
}

function consentUrl() {
  const m = location.pathname.match(/^\/c\/([0-9a-f]{32})\/?$/);
  return m ? `/c/${m[1]}/consent` : null;
}

function showConsent(c) {
  const section = document.getElementById('consent');
  const text = document.getElementById('consent-text');
  const withdraw = document.getElementById('withdraw');
  if (c.may_improve_booth) {
    const until = c.kept_until_ms ? ` until ${new Date(c.kept_until_ms).toLocaleDateString()}` : '';
    text.textContent = 'You agreed that the booth may keep the pictures and poses of your dance' +
      `${until} to improve itself. You can change your mind at any time.`;
  } else if (c.withdrawn) {
    text.textContent = 'You withdrew your consent: the booth keeps the pictures and poses of ' +
      'your dance no longer than your clip.';
  } else {
    text.textContent = 'The booth does not keep the pictures of your dance after it deletes your clip.';
  }
  withdraw.hidden = !c.may_improve_booth;
  section.hidden = false;
}

async function setUpConsent() {
  const url = consentUrl();
  const section = document.getElementById('consent');
  if (!url || !section) return;
  const msg = document.getElementById('consent-msg');
  const load = async () => {
    const r = await fetch(url, { cache: 'no-store' });
    if (r.ok) showConsent(await r.json());
  };
  document.getElementById('withdraw').addEventListener('click', async () => {
    if (!window.confirm('Withdraw your consent? The booth will delete the pictures and poses of your dance that it kept to improve itself.')) return;
    msg.textContent = '';
    try {
      const r = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ may_improve_booth: false }),
      });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
      showConsent(body);
      msg.textContent = 'Your consent is withdrawn.';
    } catch (e) {
      msg.textContent = `Could not withdraw it: ${e.message}`;
    }
  });
  try {
    await load();
  } catch (e) {
    // The section stays hidden; the clip itself still plays.
  }
}

document.addEventListener('DOMContentLoaded', () => {
  setUpShare();
  setUpConsent();
});
