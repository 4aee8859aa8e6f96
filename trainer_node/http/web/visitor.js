// Visitor page: the share button uses the phone's share sheet where there
// is one, else copies the link.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  const button = document.getElementById('share');
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
});
