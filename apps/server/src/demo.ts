import { isAppError } from './platform/errors.js';
import type { Services } from './services.js';

/** Demo people created on first start of a fresh embedded install, so there is something to try. */
export const demoUsers = [
  { name: 'Alice Demo', phone: '+8613800000001', topupMinor: 100_000n },
  { name: 'Bob Demo', phone: '+8613800000002', topupMinor: 50_000n },
] as const;
export const demoPassword = 'yunpay-demo-wallet-2026';
export const demoPin = '246813';

/** Creates the demo users (idempotently: a restart finds them and changes nothing). */
export async function seedDemoData(services: Services): Promise<void> {
  for (const demo of demoUsers) {
    let user = await services.identity.findUserByLogin(demo.phone);
    if (user === null) {
      try {
        user = await services.identity.signUp({
          phone: demo.phone,
          password: demoPassword,
          name: demo.name,
          clientKey: 'demo-seed',
        });
      } catch (error) {
        if (!(isAppError(error) && error.code === 'login_taken')) throw error;
        user = await services.identity.findUserByLogin(demo.phone);
      }
    }
    if (user === null) throw new Error(`demo user ${demo.phone} could not be created`);
    if (!(await services.identity.hasPaymentPin(user.id))) {
      await services.identity.setPaymentPin({ userId: user.id, pin: demoPin, password: demoPassword });
    }
    // The same idempotency key every start: the top-up happens once.
    await services.wallets.topup(user.id, 'demo-seed-topup', {
      amountMinor: demo.topupMinor,
      currency: 'CNY',
      source: 'tok_visa',
    });
  }
}
