'use server';
// Server Actions: each changes the session with shop.change(), which saves it once and sets its
// cookie through next/headers. Next.js then renders the page again with the new session.
import { redirect } from 'next/navigation';
import { demoUser, products } from './catalog';
import { shop } from './session';

export async function addToCart(formData: FormData): Promise<void> {
  const id = formData.get('product');
  if (!products.some((product) => product.id === id) || typeof id !== 'string') return;
  await shop.change((session) => session.set('cart', [...(session.get('cart') ?? []), id]));
}

export async function login(formData: FormData): Promise<void> {
  const ok = formData.get('user') === demoUser.name && formData.get('password') === demoUser.password;
  if (!ok) redirect('/?login=failed');
  // login() issues a new token and kills the old one: a cookie captured before is anonymous now.
  await shop.change((session) => session.login(demoUser.name));
  redirect('/');
}

export async function logout(): Promise<void> {
  await shop.change((session) => session.destroy());
  redirect('/');
}
