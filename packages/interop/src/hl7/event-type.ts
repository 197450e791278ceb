import type { ReadMessage } from './message.ts';

export interface ChosenEventType {
  eventType: string;
  /** Which field it came from and why, stored with the message (docs/hl7.md). */
  rule: string;
}

/**
 * The trigger event to apply. MSH-9.2 wins: it names the message the sender built (its
 * structure, its meaning), and since v2.3.1 EVN-1 is only kept for backward compatibility.
 * Feeds do disagree (an A11 whose EVN-1 still says A03, the event it cancels): the
 * disagreement is recorded, never followed. EVN-1 is used only when MSH-9 carries no trigger
 * (v2.1-style "ADT"). Undefined when neither says.
 */
export function chooseEventType(message: ReadMessage): ChosenEventType | undefined {
  const fromHeader = message.header.triggerEvent;
  const fromEvn = message.evn.eventType;
  if (fromHeader !== '') {
    if (fromEvn !== '' && fromEvn !== fromHeader) {
      return {
        eventType: fromHeader,
        rule: `MSH-9.2 (EVN-1 says ${fromEvn}: MSH-9 wins, EVN-1 is for backward compatibility)`,
      };
    }
    return { eventType: fromHeader, rule: 'MSH-9.2' };
  }
  if (fromEvn !== '') return { eventType: fromEvn, rule: 'EVN-1 (MSH-9 has no trigger event)' };
  return undefined;
}
