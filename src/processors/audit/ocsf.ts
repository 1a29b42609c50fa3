// OCSF classification for SIEMs (schema 1.x): login/logout actions are
// Authentication (3002, category 3 Identity & Access Management), everything
// else HTTP Activity (4002, category 4 Network Activity).
import type { Outcome } from './fields.js';

export interface OcsfFields {
  class_uid: number;
  category_uid: number;
  activity_id: number;
  type_uid: number;
  status_id: number;
  severity_id: number;
}

/** HTTP Activity activity_id by method (OCSF 1.1+; PATCH is 9). */
const HTTP_ACTIVITY = new Map<string, number>([
  ['CONNECT', 1], ['DELETE', 2], ['GET', 3], ['HEAD', 4], ['OPTIONS', 5], ['POST', 6], ['PUT', 7], ['TRACE', 8], ['PATCH', 9],
]);

const STATUS_ID: Record<Outcome, number> = { unknown: 0, success: 1, failure: 2 };

/**
 * severity_id: the larger of what the record's OTel severity says (INFO and
 * below 1 Informational, WARN 2 Low, ERROR 3 Medium, FATAL 5 Critical) and what
 * the outcome says (a failed login/logout 3 Medium, another failure 2 Low, else 1).
 */
export function ocsfSeverity(severityNumber: number | undefined, outcome: Outcome, authentication: boolean): number {
  const n = severityNumber ?? 0;
  const fromSeverity = n >= 21 ? 5 : n >= 17 ? 3 : n >= 13 ? 2 : n >= 1 ? 1 : 0;
  const fromOutcome = outcome === 'failure' ? (authentication ? 3 : 2) : 1;
  return Math.max(fromSeverity, fromOutcome);
}

export function ocsfFor(action: string, method: string | undefined, outcome: Outcome, severityNumber: number | undefined): OcsfFields {
  const authentication = action === 'login' || action === 'logout';
  const class_uid = authentication ? 3002 : 4002;
  const activity_id = ocsfActivity(action, method);
  return {
    class_uid,
    category_uid: authentication ? 3 : 4,
    activity_id,
    type_uid: class_uid * 100 + activity_id,
    status_id: STATUS_ID[outcome],
    severity_id: ocsfSeverity(severityNumber, outcome, authentication),
  };
}

export function ocsfActivity(action: string, method: string | undefined): number {
  if (action === 'login') return 1;
  if (action === 'logout') return 2;
  return method === undefined ? 0 : (HTTP_ACTIVITY.get(method) ?? HTTP_ACTIVITY.get(method.toUpperCase()) ?? 99);
}

/** A small integer that determines all six OCSF fields (for memoising them without building a string key). */
export function ocsfKey(action: string, method: string | undefined, outcome: Outcome, severityNumber: number | undefined): number {
  const authentication = action === 'login' || action === 'logout';
  return ((ocsfActivity(action, method) * 3 + STATUS_ID[outcome]) * 8 + ocsfSeverity(severityNumber, outcome, authentication)) * 2 + (authentication ? 1 : 0);
}
