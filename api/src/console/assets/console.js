// otoq console: copy buttons and confirmations (everything else is htmx or plain forms).
document.addEventListener("click", (e) => {
  const b = e.target.closest("[data-copy]");
  if (!b) return;
  const text = document.getElementById(b.dataset.copy).textContent;
  const done = () => { b.textContent = "Copied"; setTimeout(() => { b.textContent = "Copy"; }, 2000); };
  if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done);
  else {
    const t = document.createElement("textarea");
    t.value = text; document.body.appendChild(t); t.select(); document.execCommand("copy"); t.remove(); done();
  }
});

// Forms that ask before they act (deleting).
document.addEventListener("submit", (e) => {
  const f = e.target.closest("form[data-confirm]");
  if (f && !window.confirm(f.dataset.confirm)) e.preventDefault();
});
