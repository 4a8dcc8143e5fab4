/**
 * The written support policy a reply must follow before it reaches a customer, and the checks
 * that enforce the parts of it a program can check. The critic agent applies these checks to
 * every draft (and, with a real model, also asks its model to judge the draft against the whole
 * text); a draft that breaks a rule is revised, and one that still breaks it goes to a human.
 *
 * @since 0.1.0
 */

/**
 * One rule of the policy.
 *
 * @since 0.1.0
 */
export interface Rule {
  readonly id: string
  readonly text: string
  /** the phrases that break the rule, when a draft contains one */
  readonly violatedBy: ReadonlyArray<RegExp>
}

/**
 * @since 0.1.0
 */
export const rules: ReadonlyArray<Rule> = [
  {
    id: "no-legal-advice",
    text: "Never give legal advice, admit legal liability or respond to legal threats; hand such cases to a human.",
    violatedBy: [/\bwe (?:are|were) (?:legally )?liable\b/i, /\blegal advice\b(?! to)/i, /\byou (?:should|could) sue\b/i]
  },
  {
    id: "no-unauthorised-compensation",
    text: "Never promise compensation, vouchers over 15% of the order, or refunds outside the return policy; only a team lead may.",
    violatedBy: [/\bcompensat(?:e|ion) of\b/i, /\b(?:[2-9]\d|100)% (?:voucher|discount|off)\b/i, /\bguarantee(?:d)? (?:a )?(?:full )?refund\b/i]
  },
  {
    id: "no-secrets",
    text: "Never ask for or repeat a password, a full card number or a security code.",
    violatedBy: [/\b(?:your|the) password is\b/i, /\b(?:send|give|tell) (?:us|me) your (?:password|card number|cvv|security code)\b/i, /\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b/]
  },
  {
    id: "no-other-customers",
    text: "Never disclose another customer's data: only orders on the signed-in customer's account, and never an email address.",
    violatedBy: [/[\w.+-]+@example\.com/i]
  },
  {
    id: "no-false-promises",
    text: "Never promise a delivery date or an outcome the order data does not show.",
    violatedBy: [/\bwill (?:definitely|certainly) arrive\b/i, /\bI promise\b/i]
  },
  {
    id: "courteous",
    text: "Be courteous and plain; never blame the customer.",
    violatedBy: [/\byour (?:own )?fault\b/i, /\bcalm down\b/i]
  }
]

/**
 * The policy as text, for a model that reviews drafts.
 *
 * @since 0.1.0
 */
export const text: string = rules.map((rule, i) => `${i + 1}. ${rule.text}`).join("\n")

/**
 * The rules a draft breaks (empty when it follows the checkable part of the policy).
 *
 * @since 0.1.0
 */
export const violations = (draft: string): ReadonlyArray<Rule> =>
  rules.filter((rule) => rule.violatedBy.some((pattern) => pattern.test(draft)))
