import type { Migration } from '../../../platform/migrations.js';

export const cardGatewayMigrations: readonly Migration[] = [
  {
    id: '0710_cards_gateway',
    sql: `
      -- RRNs (field 37) and STANs (field 11) come from sequences so that every API process on one
      -- database draws distinct values without coordination. RRN = the value, 12 digits; STAN =
      -- value mod 999999 + 1. The RRN sequence stops rather than wrap: an RRN names a transaction.
      create sequence cards_network_rrn_seq as bigint minvalue 1 maxvalue 999999999999 no cycle;
      create sequence cards_network_stan_seq as bigint minvalue 0 start 0;
      -- A new database starts its RRNs at a point set by the clock (10,000 per second since the
      -- epoch, modulo 5·10^11), so that a network that outlived an earlier database (the simulator's
      -- journal, say) does not see its RRNs again; half the range stays free above any start.
      select setval('cards_network_rrn_seq', 1 + (floor(extract(epoch from now()))::bigint % 50000000) * 10000, false);

      -- One row per card transaction the gateway sends (docs/card-network.md, "Gateway"). Never a
      -- PAN: the card is the vault id. status is the lifecycle; outcome is what the caller was told,
      -- written once and never changed.
      create table cards_network_transactions (
        id text primary key check (id ~ '^ntx_[0-9A-Za-z]{22}$'),
        kind text not null check (kind in ('authorization', 'sale', 'completion', 'refund')),
        reference text not null check (reference ~ '^[\\x21-\\x7e]{1,255}$'),
        card_id text not null check (card_id ~ '^card_[0-9A-Za-z]{22}$'),
        -- The expiry sent (a PaymentMethod's updated expiry wins over the vault record's); reversals
        -- and completions repeat it.
        exp_month smallint check (exp_month between 1 and 12),
        exp_year smallint check (exp_year between 2000 and 9999),
        original_id text references cards_network_transactions (id),
        mti char(4) not null check (mti in ('0100', '0200', '0220')),
        processing_code char(6) not null check (processing_code in ('000000', '200000')),
        rrn char(12) not null check (rrn ~ '^[0-9]{12}$'),
        stan char(6) not null check (stan ~ '^[0-9]{6}$' and stan <> '000000'),
        transmitted_at timestamptz not null,
        amount bigint not null check (amount > 0 and amount <= 999999999999),
        currency char(3) not null check (currency ~ '^[A-Z]{3}$'),
        merchant_account_id text not null check (length(merchant_account_id) between 1 and 255),
        acquirer_id text not null check (acquirer_id ~ '^[0-9]{1,11}$'),
        terminal_id text not null check (terminal_id ~ '^[\\x20-\\x7e]{1,8}$'),
        status text not null check (
          status in ('sending', 'approved', 'declined', 'reversal_pending', 'reversed', 'failed')
        ),
        outcome text check (outcome in ('approved', 'declined', 'failed')),
        failure_reason text check (failure_reason in ('network_unavailable', 'timeout', 'response_invalid')),
        response_code text check (response_code ~ '^[0-9A-Z]{2}$'),
        auth_code char(6) check (auth_code ~ '^[0-9A-Za-z ]{6}$'),
        decline_error_code text,
        decline_code text,
        decline_message text,
        attempts integer not null default 0 check (attempts >= 0),
        reversal_attempts integer not null default 0 check (reversal_attempts >= 0),
        reversal_stan char(6) check (reversal_stan ~ '^[0-9]{6}$'),
        reversal_response_code text check (reversal_response_code ~ '^[0-9A-Z]{2}$'),
        -- When the sweep may next touch the row: a lease while a process works on it, the retry
        -- time once it gave up. Null once the row needs nothing more.
        next_attempt_at timestamptz,
        created_at timestamptz not null,
        updated_at timestamptz not null,
        unique (reference, kind),
        check ((kind = 'completion') = (original_id is not null)),
        check ((kind = 'completion') = (mti = '0220')),
        check ((kind = 'refund') = (processing_code = '200000')),
        check ((outcome = 'failed') = (failure_reason is not null)),
        check (status not in ('sending', 'reversal_pending') or next_attempt_at is not null),
        check (status <> 'approved' or auth_code is not null or kind in ('completion', 'refund'))
      );
      -- A completion shares its authorization's RRN; every other transaction has its own.
      create unique index cards_network_transactions_rrn
        on cards_network_transactions (rrn) where kind <> 'completion';
      -- An authorization is completed at most once.
      create unique index cards_network_transactions_completion
        on cards_network_transactions (original_id) where kind = 'completion';
      -- The sweep's work list.
      create index cards_network_transactions_due
        on cards_network_transactions (next_attempt_at) where status in ('sending', 'reversal_pending');
    `,
  },
  {
    id: '0711_cards_gateway_references',
    sql: `
      -- Who holds a reference (a charge, refund or top-up id) for an original transaction: the
      -- gateway that sends it ('sent', written in the same transaction as its row), or a recovery
      -- that closed it unsent ('closed'). The primary key decides between a late sender and a
      -- recovery that gives up on the attempt: exactly one of them wins, so a payment failed by
      -- recovery can never be authorized afterwards.
      create table cards_gateway_references (
        reference text not null,
        kind text not null check (kind in ('authorization', 'sale', 'refund')),
        state text not null check (state in ('sent', 'closed')),
        created_at timestamptz not null,
        primary key (reference, kind)
      );
      insert into cards_gateway_references (reference, kind, state, created_at)
        select reference, kind, 'sent', created_at from cards_network_transactions where kind <> 'completion';
    `,
  },
];
