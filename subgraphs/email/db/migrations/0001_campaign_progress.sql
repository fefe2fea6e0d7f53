ALTER TABLE "email"."campaigns" ADD COLUMN "cursor" varchar(300);--> statement-breakpoint
ALTER TABLE "email"."campaigns" ADD COLUMN "queued_at" timestamp (3) with time zone;--> statement-breakpoint
-- Campaigns sent before paging was durable were queued whole by their request.
UPDATE "email"."campaigns" SET "queued_at" = "sent_at" WHERE "status" <> 'DRAFT';