import type { Keyword } from '../keyword.js';
import { RuleError } from '../syntax.js';

/**
 * Snort 3's service: the application protocols a rule is meant for. Snort 3 matches a rule when
 * its ports match or its service is detected; until Outpost's protocol analyzers name a flow's
 * application protocol, such rules match by their ports alone.
 */
export const service: Keyword = {
  name: 'service',
  summary: 'Snort 3: the services (application protocols) the rule is for; until protocol detection exists, the rule matches by its ports.',
  syntax: 'service:http[,ssl,...]',
  apply(b, value) {
    if (value === null || value.trim() === '') throw new RuleError('service needs a name');
    b.snort3 = true;
  },
};
