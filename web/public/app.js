// The minimal client: first-admin setup, login, and the fleet table kept live by /api/v1/stream.

const $ = (id) => document.getElementById(id);
const devices = new Map();

function show(section) {
  for (const id of ['setup', 'login', 'fleet']) $(id).hidden = id !== section;
  $('logout').hidden = section !== 'fleet';
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin',
  });
  const json = await res.json().catch(() => ({}));
  return { status: res.status, json };
}

function bindForm(formId, submit) {
  const form = $(formId);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const error = form.querySelector('.error');
    error.textContent = '';
    const res = await submit(data);
    if (res.status >= 300) error.textContent = res.json?.error?.message ?? `failed (${res.status})`;
  });
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function render() {
  const rows = [...devices.values()].sort((a, b) => a.name.localeCompare(b.name));
  const body = $('devices');
  body.replaceChildren(
    ...rows.map((d) => {
      const tr = document.createElement('tr');
      tr.append(
        cell(d.name || d.id),
        cell(d.kind),
        cell(d.state, `state state-${d.state}`),
        cell(d.currentJob ? d.currentJob.name : '—'),
        cell(d.currentJob ? `${Math.round(d.currentJob.progress)} %` : '—'),
        cell(String(d.openAlerts?.length ?? 0)),
        cell(d.lastSeenAt ? new Date(d.lastSeenAt).toLocaleTimeString() : 'never'),
      );
      return tr;
    }),
  );
  const counts = {};
  for (const d of rows) counts[d.state] = (counts[d.state] ?? 0) + 1;
  $('counts').textContent =
    `${rows.length} devices — ` +
    Object.entries(counts)
      .map(([s, n]) => `${n} ${s}`)
      .join(', ');
}

function connect(delay = 500) {
  const ws = new WebSocket(`wss://${location.host}/api/v1/stream`);
  ws.addEventListener('open', () => {
    $('connection').textContent = 'live';
    $('connection').classList.add('live');
    delay = 500;
  });
  ws.addEventListener('message', (event) => {
    const msg = JSON.parse(event.data);
    if (msg.type === 'snapshot') {
      devices.clear();
      for (const d of msg.devices ?? []) devices.set(d.id, d);
    } else if (msg.type === 'device') {
      devices.set(msg.device.id, msg.device);
    } else return;
    render();
  });
  ws.addEventListener('close', () => {
    $('connection').textContent = 'reconnecting';
    $('connection').classList.remove('live');
    setTimeout(() => void start(), Math.min(delay * 2, 10000));
  });
}

async function start() {
  if (location.pathname === '/setup') {
    show('setup');
    return;
  }
  const me = await api('GET', '/api/v1/auth/me');
  if (me.status === 401) {
    show('login');
    return;
  }
  show('fleet');
  const list = await api('GET', '/api/v1/devices?limit=500');
  for (const d of list.json.items ?? []) devices.set(d.id, d);
  render();
  connect();
}

bindForm('setup-form', async (data) => {
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  const res = await api('POST', '/api/v1/setup', {
    token,
    username: data.username,
    password: data.password,
  });
  if (res.status < 300) {
    history.replaceState(null, '', '/');
    const login = await api('POST', '/api/v1/auth/login', {
      username: data.username,
      password: data.password,
    });
    if (login.status < 300) await start();
  }
  return res;
});

bindForm('login-form', async (data) => {
  const res = await api('POST', '/api/v1/auth/login', data);
  if (res.status < 300) await start();
  return res;
});

$('logout').addEventListener('click', async () => {
  await api('POST', '/api/v1/auth/logout');
  location.reload();
});

void start();
