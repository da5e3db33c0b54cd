import { Link, useLocation } from '../router.tsx';
import { PageHeading } from '../ui/form.tsx';
import { AuthLayout } from '../ui/layout.tsx';

export default function NotFound() {
  const { pathname } = useLocation();
  return (
    <AuthLayout>
      <PageHeading title="Page not found">Page not found</PageHeading>
      <p className="lede">
        There is no page at <code className="break">{pathname}</code>. The link may be mistyped, or the page may have moved.
      </p>
      <div className="actions">
        <Link className="btn btn-primary" href="/">
          Go to your overview
        </Link>
        <Link className="btn btn-secondary" href="/login">
          Sign in
        </Link>
      </div>
    </AuthLayout>
  );
}
