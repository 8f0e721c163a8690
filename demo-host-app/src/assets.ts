/** The stylesheet and logo, served from /assets (no build step for a demo). */

export const LOGO_SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28" viewBox="0 0 28 28"><rect width="28" height="28" rx="7" fill="#4f46e5"/><path d="M8 20 14 7l6 13M10.6 15h6.8" stroke="#fff" stroke-width="2.4" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

export const APP_CSS = `
:root {
  --bg: #f6f7fb; --surface: #fff; --text: #1d2230; --muted: #667085; --line: #e4e7ec;
  --accent: #4f46e5; --accent-soft: #eef0ff; --ok: #067647; --ok-soft: #ecfdf3; --bad: #b42318; --bad-soft: #fef3f2;
  --warn: #b54708; --warn-soft: #fffaeb; --radius: 10px; --shadow: 0 1px 2px rgba(16,24,40,.06), 0 1px 3px rgba(16,24,40,.08);
  color-scheme: light;
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
h1 { font-size: 22px; margin: 0 0 4px; letter-spacing: -.01em; }
h2 { font-size: 15px; margin: 0 0 12px; }
h3 { font-size: 14px; margin: 0; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #f2f4f7; padding: 1px 5px; border-radius: 4px; }
.muted { color: var(--muted); margin: 0; }
.small { font-size: 12px; }
.topbar { display: flex; align-items: center; gap: 28px; padding: 0 28px; height: 60px; background: var(--surface); border-bottom: 1px solid var(--line); position: sticky; top: 0; z-index: 5; }
.brand { display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 16px; color: var(--text); }
.brand:hover { text-decoration: none; }
.topbar nav { display: flex; gap: 4px; flex: 1; }
.topbar nav a { color: var(--muted); padding: 8px 12px; border-radius: 8px; font-weight: 500; }
.topbar nav a:hover { background: #f2f4f7; text-decoration: none; color: var(--text); }
.topbar nav a[aria-current="page"] { background: var(--accent-soft); color: var(--accent); }
.account { display: flex; align-items: center; gap: 12px; }
.company { font-weight: 600; }
.avatar { width: 32px; height: 32px; border-radius: 50%; background: var(--accent); color: #fff; display: grid; place-items: center; font-size: 12px; font-weight: 700; }
.account form { margin: 0; }
.page { max-width: 1240px; margin: 0 auto; padding: 28px; }
.centered { min-height: 100vh; display: grid; place-items: center; padding: 24px; }
.page-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; margin-bottom: 20px; }
.card { background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: var(--shadow); padding: 20px; }
.login { width: 100%; max-width: 400px; }
.login-brand { display: flex; align-items: center; gap: 10px; font-weight: 700; font-size: 18px; margin-bottom: 18px; }
.login h1 { font-size: 18px; margin-bottom: 16px; }
.hint { margin-top: 20px; padding: 12px 14px; background: #f9fafb; border: 1px dashed var(--line); border-radius: 8px; font-size: 13px; }
.hint ul { margin: 6px 0 0; padding-left: 18px; }
.stack { display: flex; flex-direction: column; gap: 14px; }
.row { display: flex; gap: 12px; }
.row > * { flex: 1; min-width: 0; }
label input, label textarea { width: 100%; }
label { display: flex; flex-direction: column; gap: 6px; font-weight: 500; font-size: 13px; }
input, textarea { font: inherit; padding: 9px 12px; border: 1px solid #d0d5dd; border-radius: 8px; background: #fff; color: var(--text); min-width: 0; }
textarea { resize: vertical; min-height: 96px; }
input:focus, textarea:focus { outline: 2px solid var(--accent); outline-offset: 1px; border-color: var(--accent); }
button, .button { font: inherit; font-weight: 600; padding: 9px 16px; border-radius: 8px; border: 1px solid #d0d5dd; background: #fff; color: var(--text); cursor: pointer; display: inline-block; }
button:hover, .button:hover { background: #f9fafb; text-decoration: none; }
button.primary, .button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button.primary:hover, .button.primary:hover { background: #4338ca; }
button.small { padding: 4px 10px; font-size: 12px; }
button.link { border: 0; background: none; color: var(--muted); padding: 0; font-weight: 500; }
button.link:hover { color: var(--text); }
.flash { padding: 10px 14px; border-radius: 8px; margin-bottom: 16px; border: 1px solid; }
.flash-success { background: var(--ok-soft); color: var(--ok); border-color: #abefc6; }
.flash-error { background: var(--bad-soft); color: var(--bad); border-color: #fecdca; }
.flash-info { background: var(--accent-soft); color: #3730a3; border-color: #c7d2fe; }
.board { display: grid; grid-template-columns: repeat(4, minmax(220px, 1fr)); gap: 16px; align-items: start; }
.column { background: #eef0f5; border-radius: var(--radius); padding: 12px; min-height: 200px; }
.column > header { display: flex; align-items: baseline; gap: 8px; margin: 2px 4px 12px; }
.column > header h2 { margin: 0; font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: #475467; }
.count { background: #fff; border-radius: 999px; padding: 0 8px; font-size: 12px; font-weight: 600; color: #475467; }
.total { margin-left: auto; font-size: 12px; color: var(--muted); font-weight: 600; }
.column-won { background: #e7f6ee; }
.deal { background: var(--surface); border-radius: 8px; box-shadow: var(--shadow); padding: 12px 14px; margin-bottom: 10px; border: 1px solid transparent; }
.deal:hover { border-color: #c7d2fe; }
.deal .amount { font-size: 18px; font-weight: 700; margin: 6px 0 10px; letter-spacing: -.01em; }
.deal footer { display: flex; justify-content: space-between; align-items: center; gap: 8px; }
.deal footer form { margin: 0; }
.owner { font-size: 12px; color: var(--muted); }
.empty { color: var(--muted); text-align: center; padding: 16px 0; margin: 0; }
.badge { display: inline-block; font-size: 11px; font-weight: 600; padding: 2px 8px; border-radius: 999px; background: #f2f4f7; color: #344054; white-space: nowrap; }
.badge-won, .badge-synced, .badge-ok { background: var(--ok-soft); color: var(--ok); }
.badge-failed, .badge-bad { background: var(--bad-soft); color: var(--bad); }
.badge-not_sent, .badge-pending, .badge-warn { background: var(--warn-soft); color: var(--warn); }
.new-deal { position: relative; }
.new-deal summary { list-style: none; }
.new-deal summary::-webkit-details-marker { display: none; }
.inline-form { position: absolute; right: 0; top: 46px; z-index: 4; width: 320px; background: var(--surface); border: 1px solid var(--line); border-radius: var(--radius); box-shadow: 0 12px 24px rgba(16,24,40,.12); padding: 16px; display: flex; flex-direction: column; gap: 12px; }
.split { display: flex; gap: 20px; align-items: flex-start; }
.split > .card:first-child:not(.side) { width: 360px; flex: none; }
.grow { flex: 1; min-width: 0; }
table { width: 100%; border-collapse: collapse; }
th, td { text-align: left; padding: 10px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; }
.ticket-message { white-space: pre-wrap; overflow-wrap: anywhere; max-height: 4.5em; overflow: hidden; }
.split > .side { width: 320px; flex: none; order: 2; }
#switchboard-widget { min-height: 420px; }
/* The widget adds its own element next to the placeholder: from then on the placeholder goes. */
#switchboard-widget > .loading:not(:only-child) { display: none; }
#switchboard-widget > .loading { padding: 24px; }
.uses { margin: 0 0 14px; padding-left: 18px; display: flex; flex-direction: column; gap: 10px; }
.events { list-style: none; margin: 0; padding: 0; }
.event { display: grid; grid-template-columns: 170px 1fr auto; gap: 4px 12px; align-items: center; padding: 12px 4px; border-bottom: 1px solid var(--line); }
.event:last-child { border-bottom: 0; }
.event .badge { justify-self: start; }
.event details { grid-column: 1 / -1; }
.event summary { cursor: pointer; color: var(--muted); font-size: 12px; }
.event pre { background: #0f172a; color: #e2e8f0; padding: 12px; border-radius: 8px; overflow: auto; font-size: 12px; max-height: 320px; }
@media (max-width: 900px) { .board { grid-template-columns: 1fr 1fr; } .split { flex-direction: column; } .split > .card:first-child { width: 100%; } .topbar { gap: 12px; padding: 0 12px; } }
`;
