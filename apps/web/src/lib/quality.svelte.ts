import type { QualityCheck, QualityItem } from '@medaxis/api';

import { refusalOf, refusalText, type OpsClient, type Refusal } from './ops-api.ts';

/** The checks in the order the page shows them, with what each means. */
export const checkInfo: { check: QualityCheck; label: string; detail: string }[] = [
  {
    check: 'rejected_messages',
    label: 'Rejected messages',
    detail: 'HL7 messages refused (AR/AE) and kept for reprocessing.',
  },
  {
    check: 'late_events',
    label: 'Late events',
    detail: 'HL7 messages received more than an hour after their event time.',
  },
  {
    check: 'out_of_order_events',
    label: 'Out-of-order events',
    detail: "Events dated before their visit's last bed change: refused, kept.",
  },
  {
    check: 'missing_admit_decision',
    label: 'No admit decision time',
    detail: 'Admitted inpatient visits without the time the admission was decided.',
  },
  {
    check: 'beds_held_after_discharge',
    label: 'Beds held after discharge',
    detail: 'Beds still occupied or held by a visit that has been discharged.',
  },
  {
    check: 'unconfigured_locations',
    label: 'New locations',
    detail: 'Departments and beds a feed created on first use, waiting for review.',
  },
  {
    check: 'rejected_import_rows',
    label: 'Rejected import rows',
    detail: 'Rows of MIMIC, Synthea, FHIR and location imports not applied, kept to reprocess.',
  },
];

/** The data-quality page: counts per check and the items of the one opened. */
export class QualityState {
  counts = $state.raw<Record<QualityCheck, number> | null>(null);
  at = $state.raw<string | null>(null);
  refused = $state.raw<Refusal | null>(null);
  check = $state.raw<QualityCheck | null>(null);
  items = $state.raw<readonly QualityItem[]>([]);
  loadingItems = $state.raw(false);
  problem = $state.raw<string | null>(null);

  constructor(private readonly client: OpsClient) {}

  async load() {
    try {
      const summary = await this.client.quality.summary.query();
      this.counts = summary.counts;
      this.at = summary.at;
      this.refused = null;
    } catch (error) {
      this.refused = refusalOf(error);
    }
  }

  async drill(check: QualityCheck) {
    this.check = check;
    this.loadingItems = true;
    this.problem = null;
    try {
      const result = await this.client.quality.items.query({ check, limit: 200 });
      if (this.check === check) this.items = result.items;
    } catch (error) {
      if (this.check !== check) return;
      this.items = [];
      this.problem = refusalText(refusalOf(error));
    } finally {
      // An answer for a check chosen earlier says nothing about the one open now.
      if (this.check === check) this.loadingItems = false;
    }
  }
}
