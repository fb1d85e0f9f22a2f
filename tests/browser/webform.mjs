// The web form (plugins/source_webform) in a real browser: Debian's
// chromium, headless, driven by playwright-core, with JavaScript off since
// the form must work without it. In French then in English, one visitor
// each: a bad submission first, whose error must show next to its field
// with the answers kept, then the fixed one, whose reference is printed.
//
//   node webform.mjs http://127.0.0.1:PORT/
//
// Prints "REF <lang> <kind> <reference>" per post sent; exits non-zero,
// saying what failed, on anything unexpected. CHROMIUM names another
// browser binary.
import { chromium } from 'playwright-core';

const base = process.argv[2];
if (!base) {
  console.error('usage: node webform.mjs BASE_URL');
  process.exit(2);
}

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

// Everything a page loads must come from the form's own server: no CDN,
// no font, no script.
function watch(page, problems) {
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) problems.push(`request elsewhere: ${request.url()}`);
  });
  page.on('console', (message) => {
    // The bad submission's 422 is expected; anything else (a CSP
    // violation, a missing resource) is not.
    if (message.type() === 'error' && !/status of 422/.test(message.text()))
      problems.push(`console error: ${message.text()}`);
  });
}

// The field's error is in the paragraph its control points to, and the
// summary at the top links to the field.
async function expectError(page, id, text) {
  const control = page.locator(`#${id}`);
  check((await control.getAttribute('aria-invalid')) === 'true', `${id} has aria-invalid`);
  const described = (await control.getAttribute('aria-describedby')) ?? '';
  check(described.split(' ').includes(`${id}-error`), `${id} is described by ${id}-error`);
  const message = await page.locator(`#${id}-error`).innerText();
  check(text.test(message), `${id}'s error says ${text}: "${message}"`);
  check((await page.locator(`.summary a[href="#${id}"]`).count()) === 1, `the summary links to #${id}`);
}

async function visitor({ locale, lang, kind, fill, bad, fix, expectLabels, contact }) {
  const context = await browser.newContext({ locale, javaScriptEnabled: false });
  const page = await context.newPage();
  const problems = [];
  watch(page, problems);

  // The start page, in the browser's language.
  const home = await page.goto(base);
  check(home.status() === 200, `start page: ${home.status()}`);
  check((await page.getAttribute('html', 'lang')) === lang, `start page in ${lang}`);
  await page.getByRole('link', { name: expectLabels.start }).click();
  check((await page.getAttribute('html', 'lang')) === lang, `form in ${lang}`);
  check(await page.getByLabel(expectLabels.kind).isChecked(), `${kind} is preselected`);

  // The bad submission: the form comes back with the error next to its
  // field and what was typed kept.
  await fill(page);
  await bad(page);
  const [refused] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: expectLabels.send }).click()]);
  check(refused.status() === 422, `bad submission answered 422, not ${refused.status()}`);
  await expectError(page, expectLabels.errorField, expectLabels.errorText);
  check((await page.title()).startsWith(expectLabels.errorTitle), `the title says there is an error: ${await page.title()}`);
  check((await page.locator('#description').inputValue()).length > 10, 'the description is kept');

  // Fixed and sent: the confirmation gives a reference.
  await fix(page);
  const [sent] = await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: expectLabels.send }).click()]);
  check(sent.status() === 200, `confirmation: ${sent.status()}`);
  check(new URL(sent.url()).pathname.endsWith('/thanks'), `redirected to the confirmation, not ${sent.url()}`);
  const reference = (await page.locator('.ref').innerText()).trim();
  check(/^R-\d+-[0-9A-Z]{2}$/.test(reference), `a reference: "${reference}"`);
  // The contact never shows on a page after it was sent.
  const body = await page.locator('body').innerText();
  for (const detail of contact) check(!body.includes(detail), `no "${detail}" on the confirmation`);
  check(problems.length === 0, problems.join('; '));
  await context.close();
  console.log(`REF ${lang} ${kind} ${reference}`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  // Tests run as root, where chromium's sandbox cannot start.
  args: ['--no-sandbox'],
  headless: true,
});
try {
  await visitor({
    locale: 'fr-FR',
    lang: 'fr',
    kind: 'request',
    contact: ['Mireille', '06 12 34 56 78', 'Jules-Guesde'],
    expectLabels: {
      start: "J'ai besoin d'aide",
      kind: 'avez besoin d\'aide',
      send: 'Envoyer',
      errorField: 'consent',
      errorText: /Cochez la case/,
      errorTitle: 'Erreur',
    },
    fill: async (page) => {
      await page.getByLabel(/De quoi s'agit-il/).selectOption('groceries');
      await page.getByLabel('Quartier').selectOption('vitry_port_a_langlais');
      await page.getByLabel('Quand ?').fill('demain matin');
      await page.getByLabel("C'est pressé ?").selectOption('high');
      await page
        .getByLabel(/Ce dont vous avez besoin/)
        .fill("Bonjour, j'ai 84 ans et je ne peux plus sortir : qui pourrait faire mes courses ?");
      await page.getByLabel('Nom ou prénom').fill('Mireille Test');
      await page.getByLabel('Téléphone').fill('06 12 34 56 78');
      await page.getByLabel('Adresse', { exact: true }).fill('12 quai Jules-Guesde, 3e étage');
    },
    bad: async () => {}, // the consent box left unticked
    fix: async (page) => {
      await page.getByLabel(/J'accepte que mes coordonnées/).check();
    },
  });
  await visitor({
    locale: 'en-GB',
    lang: 'en',
    kind: 'offer',
    contact: ['Sam Test', 'sam@example.org'],
    expectLabels: {
      start: 'I can help',
      kind: 'can help',
      send: 'Send',
      errorField: 'email',
      errorText: /does not look right/,
      errorTitle: 'Error',
    },
    fill: async (page) => {
      await page.getByLabel(/What is it about/).selectOption('transport');
      await page.getByLabel('Area').selectOption('paris20');
      await page.getByLabel('When?').fill('Saturdays');
      await page.getByLabel(/What you offer/).fill('I have a car on Saturdays and can drive people to their appointments.');
      await page.getByLabel('Name').fill('Sam Test');
      await page.getByLabel(/I agree that my contact details/).check();
    },
    bad: async (page) => {
      await page.getByLabel('E-mail').fill('sam.example.org');
    },
    fix: async (page) => {
      await page.getByLabel('E-mail').fill('sam@example.org');
    },
  });
} finally {
  await browser.close();
}
