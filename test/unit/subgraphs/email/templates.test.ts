import type { AppError } from '../../../../lib/errors';
import {
  checkTemplateData,
  createRenderer,
  TEMPLATE_NAMES,
  TEMPLATES,
} from '../../../../subgraphs/email/domain/templates';
import { signUnsubscribeToken, verifyUnsubscribeToken } from '../../../../subgraphs/email/domain/unsubscribe-token';

const renderer = createRenderer();
const sample = (name: string, type?: string) =>
  type === 'url' ? `https://saypro.example/${name}` : `<b>${name}</b> & "${name}"`;

describe('email templates', () => {
  it.each(TEMPLATE_NAMES)('%s renders every field into HTML (escaped) and text (as typed)', (template) => {
    const data = checkTemplateData(
      template,
      Object.fromEntries(
        TEMPLATES[template].fields.filter((f) => f.type !== 'flag').map((f) => [f.name, sample(f.name, f.type)]),
      ),
    );
    const mail = renderer.render(
      template,
      data,
      TEMPLATES[template].kind === 'MARKETING' ? 'https://saypro.example/email/unsubscribe?token=t' : undefined,
    );
    for (const field of TEMPLATES[template].fields.filter(
      (f) => f.type !== 'url' && f.type !== 'flag' && f.name !== 'subject',
    )) {
      // a campaign's subject appears in the subject line only
      expect(mail.html).toContain(`&lt;b&gt;${field.name}&lt;/b&gt; &amp; &quot;${field.name}&quot;`);
      expect(mail.text).toContain(`<b>${field.name}</b> & "${field.name}"`);
    }
    expect(mail.html).not.toMatch(/<b>/);
    expect(mail.html + mail.text + mail.subject).not.toMatch(/\{\{|\}\}/);
    expect(mail.subject).not.toMatch(/\n/);
    expect(mail.text.includes('Unsubscribe: https://saypro.example/email/unsubscribe?token=t')).toBe(
      TEMPLATES[template].kind === 'MARKETING',
    );
  });

  it.each(['WELCOME', 'CONFIRM_EMAIL'] as const)(
    '%s, for an address another account confirmed, says so under the same subject, with no link and no name',
    (template) => {
      const fields = {
        name: 'Eve Enumerator',
        confirmUrl: 'https://saypro.example/email/confirm?token=t',
        appUrl: 'https://saypro.example/',
      };
      const only = (data: Record<string, string>) =>
        Object.fromEntries(Object.entries(data).filter(([k]) => TEMPLATES[template].fields.some((f) => f.name === k)));
      const usual = renderer.render(template, checkTemplateData(template, only(fields)));
      const { confirmUrl: _unused, ...withoutLink } = fields;
      const notice = renderer.render(
        template,
        checkTemplateData(template, { ...only(withoutLink), addressInUse: 'yes' }),
      );
      expect(notice.subject).toBe(usual.subject);
      expect(usual.text).toContain('Confirm this address: https://saypro.example/email/confirm?token=t');
      expect(notice.text).toMatch(/already belongs to (a|another) SayPro account/);
      expect(notice.text + notice.html).not.toMatch(/confirm\?token|Eve Enumerator/);
    },
  );

  it.each(TEMPLATE_NAMES)('%s keeps user-chosen text out of its subject line', (template) => {
    // What we format ourselves (money, the category) may be in a subject; a campaign's subject is an admin's.
    const ours = new Set([
      'amount',
      'listingPrice',
      'listingCategory',
      ...(template === 'PROMOTION' ? ['subject'] : []),
    ]);
    const data = checkTemplateData(
      template,
      Object.fromEntries(
        TEMPLATES[template].fields.filter((f) => f.type !== 'flag').map((f) => [f.name, sample(f.name, f.type)]),
      ),
    );
    const { subject } = renderer.render(
      template,
      data,
      TEMPLATES[template].kind === 'MARKETING' ? 'https://saypro.example/email/unsubscribe?token=t' : undefined,
    );
    const leaked = TEMPLATES[template].fields.filter((f) => !ours.has(f.name) && subject.includes(f.name));
    expect({ template, leaked: leaked.map((f) => f.name) }).toEqual({ template, leaked: [] });
  });

  it('names every missing and unknown field, and refuses non-http links', () => {
    const error = (() => {
      try {
        checkTemplateData('PROMOTION', { subject: 'Hi', ctaUrl: 'javascript:alert(1)', colour: 'red' });
      } catch (err) {
        return err as AppError;
      }
      throw new Error('expected BAD_USER_INPUT');
    })();
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.colour' });
    expect((error.extensions.fields as Array<{ field: string }>).map((f) => f.field)).toEqual([
      'data.colour',
      'data.headline',
      'data.body',
      'data.ctaUrl',
    ]);
  });

  it('signs unsubscribe tokens per message with an expiry, and refuses forged, stretched and expired ones', () => {
    const id = '6f1c2e0a-8a0b-4c3d-9e8f-0123456789ab';
    const now = Date.UTC(2026, 11, 1);
    const expires = new Date(now + 60 * 86_400_000);
    const token = signUnsubscribeToken(id, 's'.repeat(32), expires);
    const invalid = { refused: 'invalid' };
    expect(verifyUnsubscribeToken(token, 's'.repeat(32), now)).toEqual({ messageId: id });
    expect(verifyUnsubscribeToken(token, 't'.repeat(32), now)).toEqual(invalid);
    expect(
      verifyUnsubscribeToken(token.replace(id, '6f1c2e0a-8a0b-4c3d-9e8f-0123456789ac'), 's'.repeat(32), now),
    ).toEqual(invalid);
    const [, exp, mac] = token.split('.');
    expect(verifyUnsubscribeToken(`${id}.${Number(exp) + 86_400}.${mac}`, 's'.repeat(32), now)).toEqual(invalid); // a longer life is a forgery
    expect(verifyUnsubscribeToken('garbage', 's'.repeat(32), now)).toEqual(invalid);
    expect(verifyUnsubscribeToken(token, 's'.repeat(32), expires.getTime() + 1000)).toEqual({ refused: 'expired' });
  });
});
