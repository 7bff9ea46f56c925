/** The benchmark workflows' one activity. */
export async function greet(name: string): Promise<string> {
  return `Hello, ${name}!`
}
