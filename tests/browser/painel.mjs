// End-to-end test of the agents' console (`/painel/`) in a real headless Chromium.
//
// Run by tests/api/painel_browser.rs against a server it starts; by hand:
//
//   URA_URL=http://127.0.0.1:8000 URA_AGENT_LOGIN=maria URA_AGENT_SENHA=... \
//   URA_APP=demo URA_TOKEN=... URA_CONTRATO=1001 URA_TELEFONE=84991380000 \
//   URA_FILA=suporte URA_SCREENSHOT=target/artifacts/painel.png node tests/browser/painel.mjs
//
// An agent signs in, the IVR transfers a call (`notificacaosistema`), the call pops on the
// agent's screen, the agent takes it and opens a ticket from it, then ends it. Every step has
// a bounded wait and a message saying what was expected; any failure exits non-zero. The
// browser is the system's Chromium (/usr/bin/chromium, or URA_CHROMIUM): playwright-core never
// downloads one.

import { chromium } from 'playwright-core';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';

const STEP_TIMEOUT_MS = 10_000;
// Below the Rust test's own limit, so that a hang is reported from here, with context.
const TOTAL_TIMEOUT_MS = 75_000;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1366, height: 900 };
const TICKET_TEXT = 'Cliente sem conexão desde ontem';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

function env(name) {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    fail(`environment variable ${name} is not set`);
  }
  return value.trim();
}

class StepError extends Error {}

function fail(message) {
  throw new StepError(message);
}

function loadConfig() {
  return {
    url: env('URA_URL').replace(/\/+$/, ''),
    login: env('URA_AGENT_LOGIN'),
    senha: process.env.URA_AGENT_SENHA || fail('environment variable URA_AGENT_SENHA is not set'),
    app: env('URA_APP'),
    token: env('URA_TOKEN'),
    contrato: env('URA_CONTRATO'),
    telefone: env('URA_TELEFONE'),
    fila: env('URA_FILA'),
    screenshot: env('URA_SCREENSHOT'),
    chromium: process.env.URA_CHROMIUM || '/usr/bin/chromium',
  };
}

let cfg;
try {
  cfg = loadConfig();
} catch (err) {
  process.stderr.write(`FAIL: ${err.message}\n`);
  process.exit(1);
}

const digits = (s) => String(s ?? '').replace(/\D/g, '');
const oneLine = (s, max = 600) => {
  const t = String(s ?? '').replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
};
const attr = (value) => JSON.stringify(String(value)); // a quoted CSS attribute value

// What the page said on its own: console errors, uncaught exceptions, failed requests and
// HTTP errors. Printed at the end (and on failure, where they usually explain it).
const diagnostics = [];
let closing = false;

function watch(page, label) {
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') {
      // Browsers ask for /favicon.ico on their own; a 404 there says nothing about the console.
      if (msg.location()?.url?.endsWith('/favicon.ico')) return;
      const loc = msg.location();
      const where = loc && loc.url ? ` (${loc.url}:${loc.lineNumber})` : '';
      diagnostics.push(`[${label}] console.${msg.type()}: ${msg.text()}${where}`);
    }
  });
  page.on('pageerror', (err) => {
    diagnostics.push(`[${label}] uncaught exception: ${err.stack || err.message || err}`);
  });
  page.on('requestfailed', (req) => {
    // The live stream is cut when a page is closed or navigates away: not a failure.
    if (closing) return;
    const why = req.failure()?.errorText ?? '?';
    if (why.includes('ERR_ABORTED') && req.resourceType() === 'eventsource') return;
    diagnostics.push(`[${label}] request failed: ${req.method()} ${req.url()}: ${why}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400 && !res.url().endsWith('/favicon.ico')) {
      diagnostics.push(`[${label}] HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
    }
  });
  // A confirmation ("encerrar a chamada?") is answered yes.
  page.on('dialog', (dialog) => {
    diagnostics.push(`[${label}] dialog ${dialog.type()}: ${dialog.message()} (accepted)`);
    dialog.accept().catch(() => {});
  });
}

let current = '';
// The page under test, for a screenshot of the state a failure left it in.
let mainPage = null;
async function step(name, fn) {
  current = name;
  const started = Date.now();
  process.stdout.write(`-- ${name}\n`);
  const result = await fn();
  process.stdout.write(`   ok (${Date.now() - started} ms)\n`);
  return result;
}

// Runs `fn`; on a Playwright timeout, fails with `message` plus what `context` reports.
async function within(message, fn, context) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof StepError) throw err;
    let extra = '';
    if (context) {
      try {
        extra = `\n${await context()}`;
      } catch (e) {
        extra = `\n(could not describe the page: ${e.message})`;
      }
    }
    const cause = oneLine(String(err.message || err).split('\n')[0], 300);
    fail(`${message}\ncause: ${cause}${extra}`);
  }
}

async function describePage(page) {
  const url = page.url();
  const title = await page.title().catch(() => '?');
  const html = await page.content().catch(() => '');
  const text = await page.evaluate(() => document.body?.innerText ?? '').catch(() => '');
  return `page: ${url} (title ${JSON.stringify(title)})\ntext: ${oneLine(text, 800)}\nhtml: ${oneLine(html, 1500)}`;
}

async function describeCard(page, card) {
  if ((await card.count()) === 0) return `the card is gone\n${await describePage(page)}`;
  const html = await card.evaluate((el) => el.outerHTML);
  const text = await card.innerText();
  return `card text: ${oneLine(text, 800)}\ncard html: ${oneLine(html, 2000)}`;
}

async function describeCards(page) {
  const cards = await page.$$eval('article.cartao', (els) =>
    els.map((el) => ({
      id: el.getAttribute('data-id'),
      chamador: el.querySelector('.chamador')?.textContent ?? null,
      protocolo: el.querySelector('.protocolo')?.textContent ?? null,
      text: el.innerText,
    })),
  );
  const estado = await page
    .$eval('#estado', (el) => `#estado data-conectado=${el.getAttribute('data-conectado')}: ${el.textContent}`)
    .catch(() => '#estado missing');
  if (cards.length === 0) return `no article.cartao on the page; ${oneLine(estado)}\n${await describePage(page)}`;
  return `${oneLine(estado)}\ncards on the page:\n${cards
    .map((c) => `  data-id=${c.id} .chamador=${JSON.stringify(c.chamador)} .protocolo=${JSON.stringify(c.protocolo)} text=${oneLine(c.text, 300)}`)
    .join('\n')}`;
}

async function assertNoHorizontalOverflow(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > PHONE.width + 1) {
    const wide = await page.evaluate((limit) => {
      const out = [];
      for (const el of document.querySelectorAll('body *')) {
        const r = el.getBoundingClientRect();
        if (r.right > limit + 1 && out.length < 5) {
          const cls = typeof el.className === 'string' && el.className ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
          out.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${cls} (right edge ${Math.round(r.right)} px)`);
        }
      }
      return out;
    }, PHONE.width);
    fail(`${what} overflows horizontally at ${PHONE.width}x${PHONE.height}: scrollWidth ${width} px; widest elements: ${wide.join(', ') || '?'}`);
  }
}

async function signIn(page) {
  await within(
    `GET ${cfg.url}/painel/ did not load`,
    () => page.goto(`${cfg.url}/painel/`, { waitUntil: 'load', timeout: STEP_TIMEOUT_MS }),
    () => describePage(page),
  );
  await within(
    `${cfg.url}/painel/ without a session should lead to the sign-in page with form#entrar (login, senha, submit)`,
    async () => {
      await page.locator('form#entrar').waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
      await page.locator('form#entrar input[name=login]').waitFor({ timeout: 1000 });
      await page.locator('form#entrar input[name=senha]').waitFor({ timeout: 1000 });
      await page.locator('form#entrar button[type=submit]').waitFor({ timeout: 1000 });
    },
    () => describePage(page),
  );
  if (new URL(page.url()).pathname.replace(/\/+$/, '').endsWith('/painel')) {
    process.stdout.write(`   note: the sign-in form is served at ${page.url()} itself (no redirect)\n`);
  } else {
    process.stdout.write(`   redirected to ${page.url()}\n`);
  }
  await page.locator('form#entrar input[name=login]').fill(cfg.login);
  await page.locator('form#entrar input[name=senha]').fill(cfg.senha);
  await page.locator('form#entrar button[type=submit]').click();
}

async function waitConnected(page, what) {
  await within(
    `${what}: #estado never got data-conectado="1" (live stream not connected) within ${STEP_TIMEOUT_MS} ms`,
    () => page.locator('#estado[data-conectado="1"]').waitFor({ state: 'attached', timeout: STEP_TIMEOUT_MS }),
    async () => {
      const form = await page.locator('form#entrar').count();
      const estado = await page
        .$eval('#estado', (el) => `#estado is ${el.outerHTML}`)
        .catch(() => 'there is no #estado');
      return `${form ? 'still on the sign-in page (wrong login/password, or the session cookie was not kept?); ' : ''}${estado}\n${await describePage(page)}`;
    },
  );
}

async function notify() {
  const endpoint = `${cfg.url}/ws/ura/notificacaosistema/`;
  const body = new URLSearchParams({
    app: cfg.app,
    token: cfg.token,
    contrato: cfg.contrato,
    uracontato: cfg.telefone,
    uraagente: cfg.fila,
  });
  let res;
  let text;
  try {
    res = await fetch(endpoint, { method: 'POST', body, signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
    text = await res.text();
  } catch (err) {
    fail(`POST ${endpoint} failed: ${err.message}`);
  }
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    fail(`POST ${endpoint}: HTTP ${res.status}, the answer is not JSON: ${oneLine(text)}`);
  }
  if (res.status !== 200 || json.status !== 1) {
    fail(`POST ${endpoint}: expected HTTP 200 with "status": 1, got HTTP ${res.status}: ${oneLine(text)}`);
  }
  if (typeof json.protocolo !== 'string' || !/^\d+$/.test(json.protocolo)) {
    fail(`POST ${endpoint}: "protocolo" should be a string of digits: ${oneLine(text)}`);
  }
  process.stdout.write(`   protocolo ${json.protocolo}\n`);
  return json.protocolo;
}

// The card of our call: `.chamador` holds the caller's number and `.protocolo` the call's
// protocol (compared by their digits, so "(84) 99138-0000" matches too). Returns its data-id.
async function findCard(page, protocolo) {
  const handle = await within(
    `no article.cartao with .chamador containing ${cfg.telefone} and .protocolo containing ${protocolo} appeared within ${STEP_TIMEOUT_MS} ms`,
    () =>
      page.waitForFunction(
        ([tel, proto]) => {
          const d = (s) => String(s ?? '').replace(/\D/g, '');
          for (const card of document.querySelectorAll('article.cartao')) {
            const chamador = card.querySelector('.chamador');
            const protocolo = card.querySelector('.protocolo');
            if (chamador && protocolo && d(chamador.textContent).includes(tel) && d(protocolo.textContent).includes(proto)) {
              return { id: card.getAttribute('data-id') };
            }
          }
          return null;
        },
        [digits(cfg.telefone), protocolo],
        { timeout: STEP_TIMEOUT_MS, polling: 100 },
      ),
    () => describeCards(page),
  );
  const { id } = await handle.jsonValue();
  if (!id) fail(`the call's card has no data-id attribute\n${await describeCards(page)}`);
  return id;
}

async function chooseFirst(form, name, required) {
  const select = form.locator(`select[name=${name}]`);
  if ((await select.count()) === 0) {
    if (required) fail(`form.chamado has no select[name=${name}]`);
    process.stdout.write(`   note: form.chamado has no select[name=${name}]\n`);
    return null;
  }
  const options = await select.evaluate((el) =>
    [...el.options].filter((o) => !o.disabled && o.value !== '').map((o) => ({ value: o.value, label: o.textContent.trim() })),
  );
  if (options.length === 0) {
    if (required) fail(`select[name=${name}] in form.chamado has no non-empty option`);
    process.stdout.write(`   note: select[name=${name}] has no non-empty option\n`);
    return null;
  }
  await select.selectOption(options[0].value, { timeout: STEP_TIMEOUT_MS });
  process.stdout.write(`   ${name} = ${options[0].value} (${options[0].label})\n`);
  return options[0].value;
}

async function run(browser) {
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'pt-BR' });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  const page = await context.newPage();
  mainPage = page;
  watch(page, 'desktop');

  await step('a. /painel/ leads to the sign-in form; sign in', () => signIn(page));
  await step('b. main page, live stream connected (#estado[data-conectado="1"])', () =>
    waitConnected(page, 'after signing in'),
  );
  const protocolo = await step('c. the IVR transfers a call (POST notificacaosistema)', () => notify());

  const id = await step("d. the call's card pops on the screen", async () => {
    const found = await findCard(page, protocolo);
    process.stdout.write(`   card data-id=${found}\n`);
    return found;
  });
  const card = page.locator(`article.cartao[data-id=${attr(id)}]`).first();
  await step("d. the card shows the customer's name and the masked document", async () => {
    const cliente = await within('the card has no .cliente', () => card.locator('.cliente').first().innerText(), () => describeCard(page, card));
    if (cliente.trim() === '') fail(`.cliente is empty\n${await describeCard(page, card)}`);
    const documento = await within('the card has no .documento', () => card.locator('.documento').first().innerText(), () => describeCard(page, card));
    // The contract's mask hides digits as N (529.NNN.247-NN); never the whole document.
    if (!documento.includes('N') || /\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11}|\d{14}/.test(documento)) {
      fail(`.documento should show the CPF/CNPJ masked (529.NNN.247-NN): ${JSON.stringify(documento)}\n${await describeCard(page, card)}`);
    }
    process.stdout.write(`   .cliente ${JSON.stringify(cliente.trim())}, .documento ${JSON.stringify(documento.trim())}\n`);
  });

  const form = card.locator('form.chamado');
  await step('e. take the call (button.atender) → form.chamado', async () => {
    await within('the card has no clickable button.atender', () => card.locator('button.atender').click(), () => describeCard(page, card));
    await within(
      `form.chamado did not appear in the card within ${STEP_TIMEOUT_MS} ms of clicking button.atender`,
      () => form.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS }),
      () => describeCard(page, card),
    );
  });
  await step('e. fill in and submit the ticket form', async () => {
    await chooseFirst(form, 'tipo', true);
    await chooseFirst(form, 'motivo', false);
    await chooseFirst(form, 'setor', false);
    await within('form.chamado has no textarea[name=texto]', () => form.locator('textarea[name=texto]').fill(TICKET_TEXT), () => describeCard(page, card));
    await within('form.chamado has no clickable button.abrir-chamado', () => form.locator('button.abrir-chamado').click(), () => describeCard(page, card));
  });

  await step("f. the ticket's protocol shows in .protocolo-chamado and is the call's", async () => {
    const handle = await within(
      `.protocolo-chamado with a number did not appear in the card within ${STEP_TIMEOUT_MS} ms of submitting the ticket`,
      () =>
        page.waitForFunction(
          (selector) => {
            const el = document.querySelector(selector);
            const m = el && el.textContent.match(/\d+/g);
            return m ? m.sort((a, b) => b.length - a.length)[0] : null;
          },
          `article.cartao[data-id=${attr(id)}] .protocolo-chamado`,
          { timeout: STEP_TIMEOUT_MS, polling: 100 },
        ),
      () => describeCard(page, card),
    );
    const shown = await handle.jsonValue();
    if (shown !== protocolo) {
      fail(`.protocolo-chamado shows ${shown}, expected the call's protocolo ${protocolo}\n${await describeCard(page, card)}`);
    }
    process.stdout.write(`   ticket protocolo ${shown}\n`);
  });

  await step(`g. screenshot → ${cfg.screenshot}`, async () => {
    mkdirSync(dirname(cfg.screenshot), { recursive: true });
    await page.screenshot({ path: cfg.screenshot, fullPage: true, timeout: STEP_TIMEOUT_MS });
  });

  await step(`phone viewport ${PHONE.width}x${PHONE.height}: no horizontal overflow`, async () => {
    // Signed out (the sign-in page) and signed in (the same session: the console with our card).
    const anon = await browser.newContext({ viewport: PHONE, locale: 'pt-BR', isMobile: true, hasTouch: true });
    anon.setDefaultTimeout(STEP_TIMEOUT_MS);
    try {
      const p = await anon.newPage();
      watch(p, 'phone, signed out');
      await within(`GET ${cfg.url}/painel/ did not load`, () => p.goto(`${cfg.url}/painel/`, { waitUntil: 'load' }), () => describePage(p));
      await within('the sign-in form did not show at phone size', () => p.locator('form#entrar').waitFor({ state: 'visible' }), () => describePage(p));
      await assertNoHorizontalOverflow(p, 'the sign-in page');
    } finally {
      await anon.close();
    }
    const signedIn = await browser.newContext({
      viewport: PHONE,
      locale: 'pt-BR',
      isMobile: true,
      hasTouch: true,
      storageState: await context.storageState(),
    });
    signedIn.setDefaultTimeout(STEP_TIMEOUT_MS);
    try {
      const p = await signedIn.newPage();
      watch(p, 'phone');
      await within(`GET ${cfg.url}/painel/ did not load`, () => p.goto(`${cfg.url}/painel/`, { waitUntil: 'load' }), () => describePage(p));
      await waitConnected(p, 'phone page');
      const cards = p.locator(`article.cartao[data-id=${attr(id)}]`);
      await cards.first().waitFor({ state: 'visible', timeout: 3000 }).catch(() => {
        process.stdout.write('   note: the taken call is not listed on a freshly loaded page\n');
      });
      await assertNoHorizontalOverflow(p, 'the console');
      const phoneShot = cfg.screenshot.replace(/(\.png)?$/i, '-celular.png');
      await p.screenshot({ path: phoneShot, fullPage: true });
      process.stdout.write(`   screenshot → ${phoneShot}\n`);
    } finally {
      closing = true;
      await signedIn.close();
      closing = false;
    }
  });

  await step('h. end the call (button.encerrar) → the card leaves #chamadas', async () => {
    const encerrar = card.locator('button.encerrar');
    if ((await encerrar.count()) === 0) {
      process.stdout.write('   note: no button.encerrar in the card; skipped\n');
      return;
    }
    await within('button.encerrar could not be clicked', () => encerrar.first().click(), () => describeCard(page, card));
    await within(
      `the card is still in #chamadas ${STEP_TIMEOUT_MS} ms after clicking button.encerrar`,
      () => page.locator(`#chamadas article.cartao[data-id=${attr(id)}]`).waitFor({ state: 'detached', timeout: STEP_TIMEOUT_MS }),
      () => describeCard(page, card),
    );
  });

  closing = true;
  await context.close();
}

async function main() {
  const watchdog = setTimeout(() => {
    process.stderr.write(`FAIL: the whole run took longer than ${TOTAL_TIMEOUT_MS} ms (stuck at: ${current})\n`);
    printDiagnostics();
    process.exit(2);
  }, TOTAL_TIMEOUT_MS);
  watchdog.unref();

  // Left by an earlier failed run: misleading next to this run's screenshots.
  rmSync(failureShot(), { force: true });
  let browser;
  try {
    browser = await within(
      `could not launch ${cfg.chromium} (apt-get install chromium)`,
      () => chromium.launch({ executablePath: cfg.chromium, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 }),
    );
    process.stdout.write(`chromium ${browser.version()}, server ${cfg.url}\n`);
    await run(browser);
    printDiagnostics();
    process.stdout.write('PASS: agents\' console end to end\n');
    return 0;
  } catch (err) {
    const msg = err instanceof StepError ? err.message : err.stack || String(err);
    process.stderr.write(`FAIL at step "${current}": ${msg}\n`);
    printDiagnostics();
    if (mainPage && !mainPage.isClosed()) {
      const shot = failureShot();
      try {
        mkdirSync(dirname(shot), { recursive: true });
        await mainPage.screenshot({ path: shot, fullPage: true, timeout: 5000 });
        process.stderr.write(`screenshot of the failure: ${shot}\n`);
      } catch {
        // the page may be gone with the browser
      }
    }
    return 1;
  } finally {
    closing = true;
    if (browser) await browser.close().catch(() => {});
  }
}

function failureShot() {
  return cfg.screenshot.replace(/(\.png)?$/i, '-falha.png');
}

function printDiagnostics() {
  if (diagnostics.length === 0) {
    process.stdout.write('page diagnostics: no console error, exception or failed request\n');
    return;
  }
  process.stdout.write(`page diagnostics (${diagnostics.length}):\n`);
  for (const line of diagnostics) process.stdout.write(`  ${line}\n`);
}

process.exitCode = await main();
