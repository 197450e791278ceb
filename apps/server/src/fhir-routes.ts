import { appRouter, type Context } from '@medaxis/api';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPCError } from '@trpc/server';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

/*
 * FHIR R4 reads over plain HTTP: GET /fhir/r4/Patient/<id>, /Encounter/<id>, /Location/<id>.
 * Each request builds the same context as a tRPC call (session cookie or device token,
 * purpose of use) and calls the same procedures through the router, so the enforcement point,
 * the access decision and the audit are exactly those of the API. Errors are FHIR
 * OperationOutcomes with the status the API's error table gives; refusals say little.
 */

const fhirJson = 'application/fhir+json; charset=utf-8';
const params = z.object({ type: z.enum(['Patient', 'Encounter', 'Location']), id: z.string() });

type IssueCode = 'invalid' | 'not-found' | 'forbidden' | 'login' | 'conflict' | 'exception';

function outcome(code: IssueCode, diagnostics: string) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics }],
  };
}

const issueFor: Record<number, IssueCode> = {
  400: 'invalid',
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
};

export function registerFhirRoutes(
  app: FastifyInstance,
  deps: {
    context: (request: FastifyRequest, reply: FastifyReply) => Promise<Context>;
    log: FastifyBaseLogger;
  },
): void {
  app.get('/fhir/r4/:type/:id', async (request, reply) => {
    const parsed = params.safeParse(request.params);
    if (!parsed.success) {
      return reply
        .code(404)
        .type(fhirJson)
        .send(outcome('not-found', 'MedAxis serves Patient, Encounter and Location.'));
    }
    const { type, id } = parsed.data;
    try {
      const caller = appRouter.createCaller(await deps.context(request, reply));
      const resource =
        type === 'Patient'
          ? await caller.fhir.patient({ id })
          : type === 'Encounter'
            ? await caller.fhir.encounter({ id })
            : await caller.fhir.location({ id });
      return await reply.type(fhirJson).send(resource);
    } catch (error) {
      if (!(error instanceof TRPCError) || error.code === 'INTERNAL_SERVER_ERROR') {
        deps.log.error({ err: error, type }, 'fhir read failed');
        return reply.code(500).type(fhirJson).send(outcome('exception', 'Internal error.'));
      }
      const status = getHTTPStatusCodeFromError(error);
      // Only the codes' own words: a refusal or an unknown id reveals nothing more.
      const text = status === 400 ? error.message : status === 404 ? 'Not found.' : 'Not allowed.';
      return reply
        .code(status)
        .type(fhirJson)
        .send(outcome(issueFor[status] ?? 'exception', text));
    }
  });
}
