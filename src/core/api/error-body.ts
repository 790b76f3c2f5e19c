/** The one error shape of every HTTP answer Patchbay makes: `{ error: { code, message, requestId } }`. */
export interface ErrorBody {
  error: { code: string; message: string; requestId: string };
}

export function errorBody(request: { id: string }, code: string, message: string): ErrorBody {
  return { error: { code, message, requestId: request.id } };
}
