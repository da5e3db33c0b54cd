import nodemailer from 'nodemailer';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Sends mail; absent when `SMTP_URL` is unset. */
export interface Mailer {
  send(mail: Mail): Promise<void>;
}

/** An SMTP mailer for `smtp://user:pass@host:port` (or `smtps://`). */
export function createMailer(smtpUrl: string, from: string): Mailer {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    async send(mail) {
      await transport.sendMail({ from, ...mail });
    },
  };
}
