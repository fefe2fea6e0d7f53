CREATE SCHEMA IF NOT EXISTS "analytics";
--> statement-breakpoint
CREATE TABLE "analytics"."consents" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"granted" boolean NOT NULL,
	"decided_by" uuid,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics"."deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"client_id" varchar(64) NOT NULL,
	"event_ids" jsonb NOT NULL,
	"event_names" jsonb NOT NULL,
	"status" integer,
	"validation" boolean NOT NULL,
	"validation_messages" jsonb NOT NULL,
	"error" varchar(500),
	"duration_ms" integer NOT NULL,
	"sent_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics"."outbox" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"client_id" varchar(64) NOT NULL,
	"event" jsonb NOT NULL,
	"status" varchar(10) NOT NULL,
	"occurred_at" timestamp (3) with time zone NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp (3) with time zone NOT NULL,
	"claimed_until" timestamp (3) with time zone,
	"sent_at" timestamp (3) with time zone,
	"last_error" varchar(500),
	"created_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "analytics"."processed_events" (
	"consumer" varchar(100) NOT NULL,
	"event_id" uuid NOT NULL,
	"processed_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "processed_events_consumer_event_id_pk" PRIMARY KEY("consumer","event_id")
);
--> statement-breakpoint
CREATE TABLE "analytics"."refund_totals" (
	"payment_id" uuid PRIMARY KEY NOT NULL,
	"refunded" integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX "deliveries_sent_idx" ON "analytics"."deliveries" USING btree ("sent_at");--> statement-breakpoint
CREATE INDEX "outbox_due_idx" ON "analytics"."outbox" USING btree ("next_attempt_at") WHERE "analytics"."outbox"."status" = 'QUEUED';--> statement-breakpoint
CREATE INDEX "outbox_user_idx" ON "analytics"."outbox" USING btree ("user_id","status");