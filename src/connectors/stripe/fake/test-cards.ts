/**
 * Stripe's test payment methods and what confirming with each does.
 * https://docs.stripe.com/testing#cards, https://docs.stripe.com/testing#declined-payments
 */
export type CardOutcome =
  | { kind: 'success' }
  | { kind: 'authentication_required' }
  | { kind: 'decline'; code: string; declineCode: string; message: string };

const decline = (code: string, declineCode: string, message: string): CardOutcome => ({
  kind: 'decline',
  code,
  declineCode,
  message,
});

export const TEST_CARDS: Readonly<Record<string, CardOutcome>> = {
  pm_card_visa: { kind: 'success' },
  pm_card_visa_debit: { kind: 'success' },
  pm_card_mastercard: { kind: 'success' },
  pm_card_amex: { kind: 'success' },
  pm_card_us: { kind: 'success' },
  pm_card_authenticationRequired: { kind: 'authentication_required' },
  pm_card_chargeDeclined: decline('card_declined', 'generic_decline', 'Your card was declined.'),
  pm_card_chargeDeclinedInsufficientFunds: decline(
    'card_declined',
    'insufficient_funds',
    'Your card has insufficient funds.',
  ),
  pm_card_chargeDeclinedLostCard: decline('card_declined', 'lost_card', 'Your card was declined.'),
  pm_card_chargeDeclinedFraudulent: decline('card_declined', 'fraudulent', 'Your card was declined.'),
  pm_card_chargeDeclinedExpiredCard: decline('expired_card', 'expired_card', 'Your card has expired.'),
  pm_card_chargeDeclinedIncorrectCvc: decline(
    'incorrect_cvc',
    'incorrect_cvc',
    "Your card's security code is incorrect.",
  ),
  pm_card_chargeDeclinedProcessingError: decline(
    'processing_error',
    'processing_error',
    'An error occurred while processing your card. Try again in a little bit.',
  ),
};
